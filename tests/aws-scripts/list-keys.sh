#!/bin/sh
# List keys a few at a time with the AWS CLI's own paging, as "Using the AWS CLI pagination options"
# in the AWS CLI user guide shows it, global options of the usual scripts included.
set -eu

for i in 1 2 3 4 5; do
        aws --region us-west-2 --output json kms create-key --key-spec HMAC_256 --key-usage GENERATE_VERIFY_MAC \
                --tags TagKey=Index,TagValue=$i > /dev/null
done

aws kms list-keys --max-items 2 --query 'length(Keys)'
aws kms list-keys --max-items 2 --query 'keys(@)' --output text

# With --output text, --query applies to each page and then to the NextToken on its own, so that
# `--query NextToken --output text` prints "None" (the page's) and then the token: take it from JSON.
aws kms list-keys --max-items 2 --query NextToken --output text | head -n 1
token=$(aws kms list-keys --max-items 2 --query NextToken --output json | tr -d '"')
aws kms list-keys --max-items 2 --starting-token "$token" --query 'length(Keys)'

# Every key once, page after page, whatever the page size of the service calls.
all=$(aws kms list-keys --query 'Keys[].KeyId' --output text | tr '\t' '\n' | sort)
paged=$(aws kms list-keys --page-size 2 --query 'Keys[].KeyId' --output text | tr '\t' '\n' | sort)
[ "$all" = "$paged" ] && echo "--page-size 2: the same $(echo "$paged" | wc -l) keys"

collected=
token=
while :; do
        if [ -n "$token" ]; then
                page=$(aws kms list-keys --max-items 2 --starting-token "$token" --output json)
        else
                page=$(aws kms list-keys --max-items 2 --output json)
        fi
        collected="$collected $(printf '%s' "$page" | sed -n 's/.*"KeyId": "\([^"]*\)".*/\1/p' | tr '\n' ' ')"
        token=$(printf '%s' "$page" | sed -n 's/.*"NextToken": "\([^"]*\)".*/\1/p')
        [ -n "$token" ] || break
done
[ "$(echo $collected | tr ' ' '\n' | sort)" = "$all" ] && echo "--max-items 2 and --starting-token: every key once"

# One call as the service answers it.
aws kms list-keys --no-paginate --query '[length(Keys), Truncated]' --output text
aws kms list-keys --limit 3 --query '{n: length(Keys), more: Truncated, marker: type(NextMarker)}' --output json

aws --no-cli-pager --profile default kms list-keys --output table --query 'length(Keys)' > /dev/null && echo "table"
