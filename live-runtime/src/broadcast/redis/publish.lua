-- Adds an event to a topic. KEYS: stream, meta, epoch. The meta hash holds `last` (the id
-- added last), `trimmed` (the newest id gone) and `born` (the first id of a topic whose past
-- nothing records); it outlives the stream, so a stream that expired and is created again
-- still tells what was lost. ARGV: max events, max age in ms, candidate epoch, event name
-- ('' for none), data. Each entry carries the epoch (`h`) and the id before it (`p`), so a
-- node can tell it missed entries. Returns the epoch and the new entry's id.
local epoch = epoch_of(KEYS[3], ARGV[3])
local prev = redis.call('HGET', KEYS[2], 'last')
local born = false
if redis.call('EXISTS', KEYS[1]) == 0 then
  if prev then redis.call('HSET', KEYS[2], 'trimmed', prev) else born = true end
end
local id
if ARGV[4] == '' then
  id = redis.call('XADD', KEYS[1], '*', 'h', epoch, 'p', prev or '0-0', 'd', ARGV[5])
else
  id = redis.call('XADD', KEYS[1], '*', 'h', epoch, 'p', prev or '0-0', 'e', ARGV[4], 'd', ARGV[5])
end
if born then redis.call('HSET', KEYS[2], 'born', id) end
redis.call('HSET', KEYS[2], 'last', id)
trim(KEYS[1], KEYS[2], tonumber(ARGV[1]), tonumber(ARGV[2]))
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], 2 * tonumber(ARGV[2]))
return {epoch, id}
