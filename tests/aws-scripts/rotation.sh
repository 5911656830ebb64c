#!/bin/sh
# Rotate a key's material automatically and on demand, as the examples of
# `aws kms enable-key-rotation help`, `aws kms get-key-rotation-status help`,
# `aws kms rotate-key-on-demand help` and `aws kms list-key-rotations help` do (AWS allows them for
# symmetric keys only; hmacd for HMAC keys). Then what hmacd adds: a MAC made before the rotation
# still verifies, and no longer once its material is retired.
set -eu

key_id=$(aws kms create-key --key-spec HMAC_256 --key-usage GENERATE_VERIFY_MAC --query KeyMetadata.KeyId \
        --output text)
mac=$(aws kms generate-mac --key-id "$key_id" --message aGVsbG8= --mac-algorithm HMAC_SHA_256 --query Mac \
        --output text)

aws kms enable-key-rotation \
        --key-id "$key_id" \
        --rotation-period-in-days 180

aws kms get-key-rotation-status --key-id "$key_id"

aws kms rotate-key-on-demand \
        --key-id "$key_id"

aws kms list-key-rotations --key-id "$key_id" --query 'Rotations[].[KeyMaterialState, RotationType]' \
        --output text

aws kms verify-mac --key-id "$key_id" --message aGVsbG8= --mac-algorithm HMAC_SHA_256 --mac "$mac" \
        --query MacValid

old=$(aws kms list-key-rotations --key-id "$key_id" \
        --query 'Rotations[?KeyMaterialState==`NON_CURRENT`].KeyMaterialId | [0]' --output text)
aws kms retire-key-material --key-id "$key_id" --key-material-id "$old"
if aws kms verify-mac --key-id "$key_id" --message aGVsbG8= --mac-algorithm HMAC_SHA_256 --mac "$mac" \
        2> error.txt; then
        echo "aws: still valid"
else
        echo "exit status $?"
fi
grep -o 'An error occurred (KMSInvalidMacException) when calling the VerifyMac operation' error.txt

aws kms disable-key-rotation --key-id "$key_id"
aws kms get-key-rotation-status --key-id "$key_id" --query KeyRotationEnabled
