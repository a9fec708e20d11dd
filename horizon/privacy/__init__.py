"""Personal data: fields marked in event models, sealed per data subject, and forgotten by deleting a key.

- `marking`: the `Personal` marker for event fields, with the value a field reads as once forgotten;
- `keys`: the `DataKeys` port, one data key per data subject (memory and DynamoDB + KMS adapters beside it);
- `cipher`: `FieldCipher`, AES-GCM over the marked fields with the subject's key;
- `cache`: a bounded, short-lived cache of data keys for warm containers.

docs/privacy.md explains the key hierarchy and what forgetting reaches.
"""
