-- Shared by both scripts. The epoch of the history, made from a candidate when Redis has
-- none; and the trim of a stream to its count and age, which records the newest id trimmed
-- in the topic's meta hash (Redis 7.0's `max-deleted-entry-id` does not count trims), so a
-- resume can tell whether it missed anything.
local function parse(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end
local function later(x, y)
  local xm, xs = parse(x)
  local ym, ys = parse(y)
  return xm > ym or (xm == ym and xs > ys)
end
local function epoch_of(key, candidate)
  local epoch = redis.call('GET', key)
  if not epoch then
    epoch = candidate
    redis.call('SET', key, epoch)
  end
  return epoch
end
local function trim(stream, meta, max, age)
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local through = false
  local over = redis.call('XLEN', stream) - max
  if over > 0 then
    local old = redis.call('XRANGE', stream, '-', '+', 'COUNT', over)
    through = old[#old][1]
  end
  local aged = redis.call('XREVRANGE', stream, '(' .. math.max(0, now - age) .. '-0', '-', 'COUNT', 1)
  if #aged > 0 and (not through or later(aged[1][1], through)) then
    through = aged[1][1]
  end
  if through then
    local ms, seq = parse(through)
    redis.call('XTRIM', stream, 'MINID', ms .. '-' .. (seq + 1))
    redis.call('HSET', meta, 'trimmed', through)
  end
end
