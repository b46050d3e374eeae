package mongostore

import (
	"go.mongodb.org/mongo-driver/v2/bson"
)

// keyChannelAlias is the unique key kind of a channel alias.
const keyChannelAlias = "channel.alias"

// channelDoc is a channel in the channels collection. Its aliases are
// lower-case and unique across channels through unique_keys
// ("channel.alias:<alias>"), as user emails are. The legacy migration
// creates channels in this shape.
type channelDoc struct {
	ID          bson.ObjectID    `bson:"_id"`
	Name        string           `bson:"name"`
	Description string           `bson:"description"`
	Aliases     []string         `bson:"aliases"`
	Tags        []categoryTagDoc `bson:"tags"`
	Created     bson.DateTime    `bson:"created"`
}

// categoryTagDoc is a category tag on a channel.
type categoryTagDoc struct {
	ID       bson.ObjectID `bson:"_id"`
	Category bson.ObjectID `bson:"category"`
	Name     string        `bson:"name"`
}
