-- Reads a topic's history atomically. KEYS: as publish.lua's. ARGV: max events, max age in
-- ms, start ('(' id, '-', or '' to read no entries), the epoch the start id belongs to (''
-- if none; another epoch reads from the first entry), a candidate epoch (made the epoch if
-- Redis has none, so that every subscriber has a position in a history). A start past the
-- last id (an id of another history that happens to share the epoch) reads from the first
-- entry too. Returns the epoch, the newest id trimmed, the last id added, the first id of a
-- topic born without a past, and the entries.
local epoch = epoch_of(KEYS[3], ARGV[5])
local last = redis.call('HGET', KEYS[2], 'last')
local born = redis.call('HGET', KEYS[2], 'born')
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {epoch, last, last, born, {}}
end
trim(KEYS[1], KEYS[2], tonumber(ARGV[1]), tonumber(ARGV[2]))
local start = ARGV[3]
if ARGV[4] ~= '' and epoch ~= ARGV[4] then start = '-' end
local from = start
if string.sub(from, 1, 1) == '(' then from = string.sub(from, 2) end
if from == '+' or (last and from ~= '' and from ~= '-' and later(from, last)) then
  start = '-'
end
local entries = {}
if start ~= '' then entries = redis.call('XRANGE', KEYS[1], start, '+') end
return {epoch, redis.call('HGET', KEYS[2], 'trimmed'), last, born, entries}
