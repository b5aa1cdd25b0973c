package api

import "github.com/switchboard-inbox/switchboard/server/store"

// MediaHeaders exposes the Content-Type and Content-Disposition
// GET /media/{id} answers for an item, to the fuzz target.
func MediaHeaders(mimeType, filename string, id int64) (contentType, contentDisposition string) {
	ct := contentTypeOf(mimeType)
	return ct, disposition(ct, store.Media{ID: id, Filename: filename})
}
