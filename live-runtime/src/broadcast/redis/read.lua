-- Reads a topic's history atomically. KEYS: as publish.lua's. ARGV: max events, max age in
-- ms, start ('(' id, '-', or '' to read no entries), the epoch the start id belongs to (''
-- if none; another epoch reads from the first entry), a candidate epoch (made the epoch if
-- Redis has none, so that every subscriber has a position in a history). A start past the
-- last id (an id of another history that happens to share the epoch) reads from the first
-- entry too. A value topic is read whole (its current value), and a closed topic's final
-- event is read for a start of ''. Returns the epoch, the newest id trimmed, the last id
-- added, the first id of a topic born without a past, the entries, the kind, the final
-- event's id, and whether the topic exists (its meta hash does).
local epoch = epoch_of(KEYS[3], ARGV[5])
local meta = redis.call('HMGET', KEYS[2], 'last', 'born', 'kind', 'closed')
local last, born, kind, closed = meta[1], meta[2], meta[3], meta[4]
local exists = redis.call('EXISTS', KEYS[2])
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {epoch, last, last, born, {}, false, closed, exists}
end
-- A closed topic keeps its final event for as long as it is kept itself.
if not closed then trim(KEYS[1], KEYS[2], tonumber(ARGV[1]), tonumber(ARGV[2])) end
local start = ARGV[3]
if ARGV[4] ~= '' and epoch ~= ARGV[4] then start = '-' end
local from = start
if string.sub(from, 1, 1) == '(' then from = string.sub(from, 2) end
if from == '+' or (last and from ~= '' and from ~= '-' and later(from, last)) then
  start = '-'
end
local entries = {}
if kind == 'value' then
  entries = redis.call('XRANGE', KEYS[1], '-', '+')
elseif start == '' and closed then
  entries = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
elseif start ~= '' then
  entries = redis.call('XRANGE', KEYS[1], start, '+')
end
return {epoch, redis.call('HGET', KEYS[2], 'trimmed'), last, born, entries, kind, closed, exists}
