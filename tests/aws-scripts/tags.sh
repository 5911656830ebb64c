#!/bin/sh
# Tag a key, list and remove its tags, as the examples of `aws kms tag-resource help`,
# `aws kms list-resource-tags help` and `aws kms untag-resource help` do.
set -eu

key_id=$(aws kms create-key --key-spec HMAC_256 --key-usage GENERATE_VERIFY_MAC --query KeyMetadata.KeyId \
        --output text)

aws kms tag-resource \
        --key-id "$key_id" \
        --tags TagKey='Purpose',TagValue='Test'

aws kms tag-resource --key-id "$key_id" --tags TagKey=Dept,TagValue=IT TagKey=CostCenter,TagValue=87654

aws kms list-resource-tags --key-id "$key_id"

aws kms untag-resource --key-id "$key_id" --tag-keys 'Purpose' 'CostCenter'

aws kms list-resource-tags --key-id "$key_id" --query 'Tags[].[TagKey, TagValue]' --output text

# Tags in JSON, and a reserved prefix the service refuses.
aws kms tag-resource --key-id "$key_id" --tags '[{"TagKey": "Team", "TagValue": "Blue"}]'
aws kms list-resource-tags --key-id "$key_id" --query 'Tags[?TagKey==`Team`].TagValue | [0]' --output text
if aws kms tag-resource --key-id "$key_id" --tags TagKey=aws:x,TagValue=y 2> error.txt; then
        echo "aws: accepted"
else
        echo "exit status $?"
fi
grep -o 'An error occurred (TagException) when calling the TagResource operation' error.txt
