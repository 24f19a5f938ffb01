package bus

import (
	"context"
	"fmt"
)

// holdLua resets the idle time of each entry (ARGV[3:]) still pending with
// consumer ARGV[2] in group ARGV[1], and returns those: XCLAIM with
// min-idle 0 and JUSTID neither counts a delivery nor, thanks to the
// XPENDING check in the same script, takes an entry another consumer has
// reclaimed in the meantime.
const holdLua = `
local held = {}
for i = 3, #ARGV do
	local p = redis.call("XPENDING", KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
	if #p > 0 and p[1][2] == ARGV[2] then
		redis.call("XCLAIM", KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], "JUSTID")
		held[#held + 1] = ARGV[i]
	end
end
return held`

// Hold implements Streams.Hold with one script call.
func (b *RedisBus) Hold(ctx context.Context, stream, group, consumer string, ids ...string) ([]string, error) {
	if b.closed.Load() {
		return nil, ErrClosed
	}
	if len(ids) == 0 {
		return nil, nil
	}
	args := make([]any, 0, 2+len(ids))
	args = append(args, group, consumer)
	for _, id := range ids {
		args = append(args, id)
	}
	held, err := b.holdScript.Run(ctx, b.client, []string{b.key(stream)}, args...).StringSlice()
	if err != nil {
		if isNoGroup(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("bus: hold %s/%s: %w", stream, group, err)
	}
	return held, nil
}
