#!/bin/sh
# Create an HMAC key, make a MAC and verify it, as the AWS KMS developer guide ("HMAC keys in AWS KMS")
# and the examples of `aws kms generate-mac help` and `aws kms verify-mac help` do it.
set -eu

key_id=$(aws kms create-key \
        --key-spec HMAC_384 \
        --key-usage GENERATE_VERIFY_MAC \
        --description "HMAC key for the examples" \
        --query KeyMetadata.KeyId \
        --output text)
echo "KeyId: $key_id"

aws kms describe-key --key-id "$key_id" \
        --query 'KeyMetadata.[KeySpec, KeyUsage, KeyState, Enabled, MacAlgorithms]' --output text

# AWS CLI v2 takes the message as base64.
message=$(printf 'Hello World' | base64)

aws kms generate-mac \
        --key-id "$key_id" \
        --message "$message" \
        --mac-algorithm HMAC_SHA_384

mac=$(aws kms generate-mac --key-id "$key_id" --message "$message" --mac-algorithm HMAC_SHA_384 \
        --query Mac --output text)
printf '%s' "$mac" | base64 -d | wc -c

aws kms verify-mac \
        --key-id "$key_id" \
        --message "$message" \
        --mac-algorithm HMAC_SHA_384 \
        --mac "$mac"

# The same message from a file, as raw bytes.
printf 'Hello World' > message.bin
again=$(aws kms generate-mac --key-id "$key_id" --message fileb://message.bin --mac-algorithm HMAC_SHA_384 \
        --query Mac --output text)
[ "$again" = "$mac" ] && echo "fileb:// gives the same MAC"

# And as text with the v1 way of blobs.
raw=$(aws kms generate-mac --key-id "$key_id" --message 'Hello World' --mac-algorithm HMAC_SHA_384 \
        --cli-binary-format raw-in-base64-out --query Mac --output text)
[ "$raw" = "$mac" ] && echo "raw-in-base64-out gives the same MAC"

# The MAC of another message does not verify: exit status 254 and the error line of the service.
if aws kms verify-mac --key-id "$key_id" --message "$(printf 'Hello world' | base64)" \
        --mac-algorithm HMAC_SHA_384 --mac "$mac" 2> error.txt; then
        echo "a wrong MAC verified"
else
        echo "exit status $?"
fi
grep -o 'An error occurred (KMSInvalidMacException) when calling the VerifyMac operation' error.txt

# The MacValid field alone, as scripts check it.
aws kms verify-mac --key-id "$key_id" --message "$message" --mac-algorithm HMAC_SHA_384 --mac "$mac" \
        --query MacValid --output text
