#!/bin/sh
# Name a key with an alias and use the alias, as the examples of `aws kms create-alias help`,
# `aws kms list-aliases help` and `aws kms update-alias help` do.
set -eu

key_id=$(aws kms create-key --key-spec HMAC_256 --key-usage GENERATE_VERIFY_MAC --query KeyMetadata.KeyId \
        --output text)
other=$(aws kms create-key --key-spec HMAC_256 --key-usage GENERATE_VERIFY_MAC --query KeyMetadata.KeyId \
        --output text)

aws kms create-alias \
        --alias-name alias/example-alias \
        --target-key-id "$key_id"

aws kms list-aliases --key-id "$key_id"

[ "$(aws kms describe-key --key-id alias/example-alias --query KeyMetadata.KeyId --output text)" = "$key_id" ] &&
        echo "alias/example-alias names the key"

aws kms generate-mac --key-id alias/example-alias --message "$(printf 'data' | base64)" \
        --mac-algorithm HMAC_SHA_256 --query KeyId --output text | grep -q "key/$key_id\$" &&
        echo "generate-mac through the alias prints the key ARN"

aws kms update-alias --alias-name alias/example-alias --target-key-id "$other"
[ "$(aws kms list-aliases --query "Aliases[?AliasName=='alias/example-alias'].TargetKeyId | [0]" \
        --output text)" = "$other" ] && echo "the alias moved"

aws kms delete-alias --alias-name alias/example-alias
aws kms list-aliases --query 'length(Aliases[?AliasName==`alias/example-alias`])'
