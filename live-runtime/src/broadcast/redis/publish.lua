-- Adds an event to a topic. KEYS: stream, meta, epoch. The meta hash holds `last` (the id
-- added last), `trimmed` (the newest id gone), `born` (the first id of a topic whose past
-- nothing records), `kind` ('log' or 'value', set by the first publish) and `closed` (the
-- final event's id); it outlives the stream, so a stream that expired and is created again
-- still tells what was lost. ARGV: max events, max age in ms, candidate epoch, event name
-- ('' for none), data, the kind the write wants ('' to keep the topic's: a close), whether
-- it closes the topic ('1' or ''), how long a closed topic is kept in ms. Each entry carries
-- the epoch (`h`) and the id before it (`p`), and the final one `f`, so a node can tell it
-- missed entries and that nothing follows. Returns the epoch and the new entry's id, or
-- {'closed'}, or {'kind', the topic's kind} when the write would change it.
if redis.call('HEXISTS', KEYS[2], 'closed') == 1 then return {'closed'} end
local exists = redis.call('EXISTS', KEYS[1]) == 1
-- A topic whose events are all gone is new again, as the in-process engine forgets it.
local kind = exists and redis.call('HGET', KEYS[2], 'kind') or false
if ARGV[6] ~= '' and kind and kind ~= ARGV[6] then return {'kind', kind} end
kind = kind or (ARGV[6] ~= '' and ARGV[6]) or 'log'
local epoch = epoch_of(KEYS[3], ARGV[3])
local prev = redis.call('HGET', KEYS[2], 'last')
local born = false
if not exists then
  if prev then redis.call('HSET', KEYS[2], 'trimmed', prev) else born = true end
end
local fields = {'h', epoch, 'p', prev or '0-0'}
if ARGV[4] ~= '' then table.insert(fields, 'e'); table.insert(fields, ARGV[4]) end
table.insert(fields, 'd'); table.insert(fields, ARGV[5])
if ARGV[7] ~= '' then table.insert(fields, 'f'); table.insert(fields, '1') end
local id = redis.call('XADD', KEYS[1], '*', unpack(fields))
if born then redis.call('HSET', KEYS[2], 'born', id) end
redis.call('HSET', KEYS[2], 'last', id, 'kind', kind)
-- A value topic keeps only its current value.
local max = tonumber(ARGV[1])
if kind == 'value' then max = 1 end
trim(KEYS[1], KEYS[2], max, tonumber(ARGV[2]))
if ARGV[7] ~= '' then
  redis.call('HSET', KEYS[2], 'closed', id)
  redis.call('PEXPIRE', KEYS[1], ARGV[8])
  redis.call('PEXPIRE', KEYS[2], ARGV[8])
else
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  redis.call('PEXPIRE', KEYS[2], 2 * tonumber(ARGV[2]))
end
return {epoch, id}
