// Package mirror keeps an in-memory copy of the user, image and draft
// stores and answers their reads from it. On the embedded store (FerretDB
// v1 over SQLite), where every filter but a bare _id scans the whole collection,
// listings, counts and channel counts then take microseconds to a few
// milliseconds instead of one to three seconds over 10,000 images
// (docs/adr/0007-embedded-store-mirror.md).
//
// Place in the hexagon: an outbound adapter that wraps other store
// adapters. Images implements ports.Images and ports.ImageTags over a
// backing ports.Images and ports.ImageTags; Drafts implements ports.Drafts
// and ports.DraftTags over a backing ports.Drafts and ports.DraftTags;
// Users implements ports.Users over a backing ports.Users (a user is read on
// every authenticated request: about 0.3 ms and much of the server's CPU on
// FerretDB). It imports the standard library, domain, ports and
// adapters/inmem, whose Users, Images and Drafts are the in-memory index
// (they pass the same contract suites, ports/porttest, as the real
// stores). It imports no driver; the
// errors it returns are the backing store's.
//
// Every write goes to the backing store first and, when that succeeded, to
// the copy, one write at a time per store, so that the copy applies them in
// the backing store's order. A write whose whole effect is known here
// (Create, Update, Delete, and AddStat, whose new counters the backing store
// returns) is applied to the copy; uniqueness (image names, user emails and
// usernames) is decided by the backing store, the copy following it; the others (tag changes, Transfer,
// ClearTarget) re-read the documents they may have touched from the backing
// store by _id. When the copy refuses a write the backing store accepted, or
// disagrees with its answer, the documents are re-read, and the whole copy
// reloaded if that is not enough; the mismatch is logged. A failed backing
// write also re-reads its documents: its outcome may be unknown (a lost
// reply, an ended context). A re-read that fails leaves them marked stale;
// the next write retries, and the failure is logged.
//
// A mirror is only valid while this process is the only writer of the
// backing store: the embedded store, which mongostore locks with a flock on
// its data directory. Writes made behind its back (another replica on a
// shared MongoDB, a tool writing the database) are not seen until a write
// through the mirror touches the same documents.
package mirror
