#!/bin/sh
# Requests from files, as "Generate AWS CLI skeleton and input parameters from a JSON or YAML input
# file" in the AWS CLI user guide does it: a skeleton, filled in, then --cli-input-json (or -yaml),
# with options on the command line overriding the file.
set -eu

aws kms generate-mac --generate-cli-skeleton > skeleton.json
cat skeleton.json

key_id=$(aws kms create-key --cli-input-json '{"KeySpec": "HMAC_512", "KeyUsage": "GENERATE_VERIFY_MAC",
        "Description": "from JSON", "Tags": [{"TagKey": "Project", "TagValue": "Alpha"}]}' \
        --query KeyMetadata.KeyId --output text)
aws kms describe-key --key-id "$key_id" --query 'KeyMetadata.[KeySpec, Description]' --output text
aws kms list-resource-tags --key-id "$key_id" --query 'Tags[0]' --output json

cat > generate-mac.json <<JSON
{
    "Message": "$(printf 'Hello World' | base64)",
    "KeyId": "$key_id",
    "MacAlgorithm": "HMAC_SHA_512"
}
JSON
mac=$(aws kms generate-mac --cli-input-json file://generate-mac.json --query Mac --output text)
printf '%s' "$mac" | base64 -d | wc -c

cat > verify-mac.yaml <<YAML
Message: $(printf 'Hello World' | base64)  # [REQUIRED] The message to verify.
KeyId: '$key_id'
MacAlgorithm: HMAC_SHA_512
Mac: $mac
YAML
aws kms verify-mac --cli-input-yaml file://verify-mac.yaml --query MacValid --output text

# The command line wins over the file.
if aws kms verify-mac --cli-input-yaml file://verify-mac.yaml --message "$(printf 'Hello world' | base64)" \
        2> error.txt; then
        echo "the file won"
else
        echo "exit status $?"
fi
grep -o 'KMSInvalidMacException' error.txt

aws kms list-keys --generate-cli-skeleton output
