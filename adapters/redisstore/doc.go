// Package redisstore keeps the server's shared, short-lived state in Redis:
// access tokens (ports.Tokens), fixed-window rate limits (ports.RateLimiter),
// cluster-wide locks (ports.Locks) and the ranked feed cache
// (ports.FeedCache), with github.com/redis/go-redis/v9.
//
// Place in the hexagon: an outbound adapter. It imports the standard
// library, domain, ports and its drivers (go-redis, miniredis); nothing
// above the adapters imports it except cmd/api-server, which wires it.
//
// With Config.URL set it talks to that Redis server and relies on the
// server's own persistence. With Config.URL empty it starts an embedded
// miniredis in-process and, because miniredis keeps nothing on disk, records
// token issues and revocations in an fsync'd journal under Config.DataDir
// that is replayed at start (docs/adr/0003-embedded-redis-persistence.md).
// The journal's in-memory copy of the live tokens then answers token
// lookups and revocations, without a round trip to the embedded server;
// with Config.URL (shared by replicas) they always go to Redis.
// Rate-limit windows, locks and feeds are not journalled: losing them on a
// restart is harmless.
//
// Redis keys (spec §9.4):
//
//	token:<sha256 hex of token>          user hex id, TTL fixed at issue
//	user_tokens:<user hex id>            set of the user's token hashes
//	rl:<bucket>:<key>:<window start>     fixed-window counter (unix seconds)
//	lock:<name>                          lock holder's random token (the
//	                                     lock's name is the whole key)
//	feed:global, feed:channel:<hex id>   sorted set of a ranked feed
//	                                     (FEED_CACHE_TTL; feed.go)
//
// Driver errors are translated here: a missing key becomes
// domain.ErrNotFound where a method documents it, an unreachable or busy
// server becomes domain.ErrUnavailable ("service unavailable").
package redisstore
