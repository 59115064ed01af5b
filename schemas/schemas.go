// Package schemas embeds the JSON Schemas (draft-07) that the gateway checks
// request bodies against, so the binary needs no files beside it. Users may
// point the gateway at their own copy instead (the schema setting).
package schemas

import _ "embed"

// B2UpdateBucket is the schema of a b2_update_bucket request body.
//
//go:embed b2/update_bucket.json
var B2UpdateBucket []byte

// FlashbackUpdateBucket is the schema of a Flashback PUT /bucket/{bucketId}
// request body.
//
//go:embed flashback/update_bucket.json
var FlashbackUpdateBucket []byte

// B2ListBuckets is the schema of a b2_list_buckets request body.
//
//go:embed b2/list_buckets.json
var B2ListBuckets []byte

// B2CreateBucket is the schema of a b2_create_bucket request body.
//
//go:embed b2/create_bucket.json
var B2CreateBucket []byte

// B2DeleteBucket is the schema of a b2_delete_bucket request body.
//
//go:embed b2/delete_bucket.json
var B2DeleteBucket []byte

// FlashbackCreateBucket is the schema of a Flashback POST /bucket request
// body.
//
//go:embed flashback/create_bucket.json
var FlashbackCreateBucket []byte
