// Package mongostore implements the store ports (ports.Users, ports.Images,
// ports.Drafts, ports.Files, and the publishing ports ports.ImageTags,
// ports.DraftTags, ports.Channels, ports.Categories, ports.Votes,
// ports.Comments) on MongoDB with go.mongodb.org/mongo-driver/v2,
// and provides the embedded default: an in-process FerretDB over SQLite
// under a data directory when no MongoDB URL is configured (Open,
// docs/adr/0002-embedded-store-ferretdb.md). It also owns the versioned
// schema migrations (Migrate, MigrationStatus).
//
// Place in the hexagon: an outbound adapter. It imports the standard
// library, domain, ports, the MongoDB driver and FerretDB (through
// internal/embedded). BSON models and their mapping live here; the domain
// carries no tags. Driver errors are translated at this boundary:
// mongo.ErrNoDocuments becomes domain.ErrNotFound, a duplicate key becomes
// domain.ErrConflict with the contract message naming the field, timeouts,
// refused connections and server selection failures become
// domain.ErrUnavailable "service unavailable". Nothing above this package
// imports the driver.
//
// Layout of the data, shaped by what FerretDB v1 over SQLite does fast
// (only a bare {_id: x} filter reaches SQLite, and only with the index the
// embedded store adds, see embedded.Server.IndexIDs; every other filter
// decodes and scans the whole collection, about 0.1 ms per image):
//   - users, images, drafts: one document per record, _id the ObjectId.
//   - unique_keys: one document per unique lower-cased value
//     ("user.email:<email>", "user.username:<name>", "image.name:<name>"),
//     inserted before the record it guards. Its _id makes uniqueness hold
//     on every server, names the field in the conflict, and turns
//     FindByEmail, FindByUsername and FindByName into two _id lookups. The
//     unique indexes on email_lc, username_lc and name_lc stay as a
//     backstop.
//   - files: one document per runnable holding its whole index (entries
//     keyed by file id), so that listing a runnable is one _id lookup
//     instead of a scan of every runnable's entries; cached contents that
//     do not fit the document's budget go to file_contents.
//   - channels, categories: one document per record; aliases are claimed
//     in unique_keys ("channel.alias:<alias>", "category.alias:<alias>").
//   - votes: one document per vote; the (user, image) pair is claimed in
//     unique_keys ("vote:<user>:<image>"), which also answers Find.
//   - comments: one document per comment, pointing to its author.
//   - tags stay embedded in images and drafts; a tag change reads the
//     document by _id and writes the new array back: on MONGO_URL only
//     while the stored array is still the one read (compare-and-swap),
//     on the embedded store by _id alone under the document lock, since
//     FerretDB scans for any other filter (tags.go).
//   - migrations: the applied schema versions.
//
// Paged listings scan once on FerretDB and cut the page here; on MongoDB
// they are an indexed find plus a count.
//
// FerretDB v1 applies an update as read, modify, write without isolation:
// two concurrent $inc on one document lose one. Every write here therefore
// also takes an in-process lock on its document (and a collection lock for
// multi-document updates). That makes the embedded store, which one
// process owns, exact; on MongoDB the server's own atomicity holds across
// replicas.
package mongostore
