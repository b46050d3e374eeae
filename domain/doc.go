// Package domain holds the pure rules of Runnable: users and permission
// levels, images (saved runnables), drafts (private working copies), files,
// tags and the fork and save model.
//
// Place in the hexagon: the centre. It imports the standard library only and
// carries no struct tags; time and ids are always passed in.
package domain
