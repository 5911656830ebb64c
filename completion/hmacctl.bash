# SPDX-License-Identifier: LGPL-2.1-or-later
# bash completion for hmacctl(1), installed as /usr/share/bash-completion/completions/hmacctl.
# Self-contained: it needs nothing from the bash-completion package. The subcommands and their
# options mirror `hmacctl --help` and `hmacctl SUBCOMMAND --help`; tests/test-units.c checks that
# they still do.

_hmacctl() {
        local -A params=(
                [create-key]='--key-spec --key-usage --description --tags --origin --mac-verify-window-in-days'
                [generate-mac]='--key-id --message --mac-algorithm --grant-tokens'
                [verify-mac]='--key-id --message --mac-algorithm --mac --grant-tokens'
                [generate-mac-batch]='--key-id --mac-algorithm --messages --format'
                [verify-mac-batch]='--key-id --mac-algorithm --messages --macs --format'
                [describe-key]='--key-id --grant-tokens'
                [list-keys]='--starting-token --page-size --max-items'
                [enable-key]='--key-id'
                [disable-key]='--key-id'
                [schedule-key-deletion]='--key-id --pending-window-in-days'
                [cancel-key-deletion]='--key-id'
                [update-key-description]='--key-id --description'
                [create-alias]='--alias-name --target-key-id'
                [update-alias]='--alias-name --target-key-id'
                [delete-alias]='--alias-name'
                [list-aliases]='--key-id --starting-token --page-size --max-items'
                [tag-resource]='--key-id --tags'
                [untag-resource]='--key-id --tag-keys'
                [list-resource-tags]='--key-id --starting-token --page-size --max-items'
                [get-parameters-for-import]='--key-id --wrapping-algorithm --wrapping-key-spec'
                [import-key-material]='--key-id --import-token --encrypted-key-material --expiration-model --valid-to'
                [delete-imported-key-material]='--key-id'
                [get-counters]=''
                [import-key]='--key-id --key-material --wrapping-key-spec --expiration-model --valid-to'
                [rotate-key-on-demand]='--key-id'
                [enable-key-rotation]='--key-id --rotation-period-in-days'
                [disable-key-rotation]='--key-id'
                [get-key-rotation-status]='--key-id'
                [list-key-rotations]='--key-id --starting-token --page-size --max-items'
                [update-mac-verify-window]='--key-id --days'
                [retire-key-material]='--key-id --key-material-id'
        )
        local subcommands='create-key generate-mac verify-mac generate-mac-batch verify-mac-batch describe-key
                list-keys enable-key disable-key schedule-key-deletion cancel-key-deletion update-key-description
                create-alias update-alias delete-alias list-aliases tag-resource untag-resource
                list-resource-tags get-parameters-for-import import-key-material delete-imported-key-material
                get-counters import-key rotate-key-on-demand enable-key-rotation disable-key-rotation
                get-key-rotation-status list-key-rotations update-mac-verify-window retire-key-material'
        # Every subcommand also takes these, as in the aws CLI.
        local common='--cli-input-json --cli-input-yaml --generate-cli-skeleton'
        # The global options that mean something here; the aws CLI's others (--region, --profile, ...)
        # are accepted and ignored, and not offered.
        local global='--system --user --output --query --cli-binary-format --no-paginate --debug'
        global+=' --no-ask-password --version --help'
        local line=${COMP_LINE:0:COMP_POINT} cur prev word verb= option= i
        local -a words=() replies=()

        # Our own word split (on blanks only), so that "fileb://PATH" and "--option=VALUE" stay one word;
        # bash's own split (COMP_WORDS) breaks them at ':' and '='.
        read -r -a words <<<"$line"
        [[ $line == *[[:blank:]] || ${#words[@]} -eq 0 ]] && words+=('')
        cur=${words[-1]}
        prev=
        [[ ${#words[@]} -ge 2 ]] && prev=${words[-2]}

        for ((i = 1; i < ${#words[@]} - 1; i++)); do
                word=${words[i]}
                if [[ $word == --output || $word == --query || $word == --cli-binary-format ]]; then
                        ((i++))
                elif [[ $word != -* && -z $verb && -n ${params[$word]+set} ]]; then
                        verb=$word
                fi
        done

        # The value of an option: "--option VALUE" or "--option=VALUE".
        if [[ $cur == --*=* ]]; then
                option=${cur%%=*}
                cur=${cur#*=}
        elif [[ $prev == --* && $cur != -* ]]; then
                option=$prev
        fi
        case $option in
        --output) replies=($(compgen -W 'json text table yaml yaml-stream' -- "$cur")) ;;
        --cli-binary-format) replies=($(compgen -W 'base64 raw-in-base64-out' -- "$cur")) ;;
        --generate-cli-skeleton) replies=($(compgen -W 'input output yaml-input' -- "$cur")) ;;
        --key-spec) replies=($(compgen -W 'HMAC_224 HMAC_256 HMAC_384 HMAC_512' -- "$cur")) ;;
        --key-usage) replies=($(compgen -W 'GENERATE_VERIFY_MAC' -- "$cur")) ;;
        --mac-algorithm)
                replies=($(compgen -W 'HMAC_SHA_224 HMAC_SHA_256 HMAC_SHA_384 HMAC_SHA_512' -- "$cur")) ;;
        --origin) replies=($(compgen -W 'HMACD EXTERNAL' -- "$cur")) ;;
        --format) replies=($(compgen -W 'lines length-prefixed' -- "$cur")) ;;
        --wrapping-algorithm) replies=($(compgen -W 'RSAES_OAEP_SHA_256 RSAES_OAEP_SHA_1' -- "$cur")) ;;
        --wrapping-key-spec) replies=($(compgen -W 'RSA_2048 RSA_3072 RSA_4096' -- "$cur")) ;;
        --expiration-model)
                replies=($(compgen -W 'KEY_MATERIAL_EXPIRES KEY_MATERIAL_DOES_NOT_EXPIRE' -- "$cur")) ;;
        --message | --mac | --messages | --macs | --key-material | --import-token | --encrypted-key-material | \
                --cli-input-json | --cli-input-yaml)
                # Blobs take raw bytes from fileb://, the request options text from file://.
                local scheme=fileb://
                [[ $option == --cli-input-* || $cur == file:/* && $cur != fileb* ]] && scheme=file://
                if [[ $cur == "$scheme"* ]]; then
                        local IFS=$'\n' path
                        for path in $(compgen -f -- "${cur#"$scheme"}"); do
                                if [[ -d $path ]]; then
                                        path+=/
                                        compopt -o nospace 2>/dev/null
                                fi
                                replies+=("$scheme$path")
                        done
                elif [[ $scheme == "$cur"* ]]; then
                        replies=("$scheme")
                        compopt -o nospace 2>/dev/null
                fi
                ;;
        --system | --user | --no-ask-password | --help | --no-paginate | --debug | --version | '') option= ;;
        *) ;; # free text: key IDs, alias names, descriptions, numbers, tags
        esac

        if [[ -z $option ]]; then
                if [[ -z $verb && $cur != -* ]]; then
                        replies=($(compgen -W "$subcommands" -- "$cur"))
                elif [[ -n $verb || $cur == -* ]]; then
                        local candidates=$global
                        [[ -n $verb ]] && candidates="${params[$verb]} $common $global"
                        # Options already given are not offered again, but for the repeatable lists.
                        for word in "${words[@]:1:${#words[@]}-2}"; do
                                [[ $word == --tags || $word == --tag-keys || $word == --grant-tokens ]] && continue
                                candidates=" $candidates "
                                candidates=${candidates/ ${word%%=*} / }
                        done
                        replies=($(compgen -W "$candidates" -- "$cur"))
                fi
        fi

        # Bash replaces only its own last word, which starts after the last ':' or '=' of ours.
        local full=${words[-1]} prefix=
        [[ -n $option && $full == --*=* ]] && prefix=$option=
        local skip=$((${#full} - ${#COMP_WORDS[COMP_CWORD]}))
        ((skip < 0)) && skip=0
        COMPREPLY=()
        for word in "${replies[@]}"; do
                word=$prefix$word
                COMPREPLY+=("${word:skip}")
        done
}

complete -F _hmacctl hmacctl
