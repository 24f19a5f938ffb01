package bus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// pruneLua deletes the consumers of group ARGV[1] on stream KEYS[1] idle
// longer than ARGV[2] milliseconds with no pending entries, and returns
// their names. Listing and deleting in one script leaves no gap in which a
// consumer could take entries that XGROUP DELCONSUMER would then drop from
// the pending list. (A client blocked in XREADGROUP for a deleted consumer
// is safe: Redis creates the consumer again when it serves the read.)
//
// XINFO's "idle" counts from the consumer's last read or claim attempt on
// Redis 7.2 and later, and from its last successful one before.
const pruneLua = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {} end
local info = redis.pcall('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])
if info.err then
  if string.find(info.err, 'NOGROUP', 1, true) then return {} end
  return info
end
local limit = tonumber(ARGV[2])
local removed = {}
for _, c in ipairs(info) do
  local f = {}
  for i = 1, #c, 2 do f[c[i]] = c[i + 1] end
  if f['pending'] == 0 and f['idle'] > limit then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], f['name'])
    removed[#removed + 1] = f['name']
  end
end
return removed
`

// PruneConsumers implements Streams.PruneConsumers with XINFO CONSUMERS and
// XGROUP DELCONSUMER, atomically in one script on the stream's key.
func (b *RedisBus) PruneConsumers(ctx context.Context, stream, group string, idle time.Duration) ([]string, error) {
	if b.closed.Load() {
		return nil, ErrClosed
	}
	removed, err := b.pruneScript.Run(ctx, b.client, []string{b.key(stream)}, group, idle.Milliseconds()).StringSlice()
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("bus: prune consumers %s/%s: %w", stream, group, err)
	}
	return removed, nil
}
