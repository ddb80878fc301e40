/**
 * The Lua scripts of the Redis transport. Every change to an edge's state
 * that must be exact across hosts is one script, so it runs atomically:
 * taking and giving back credit tokens, posting a batch, acknowledging
 * batches, marking a sender done. Each script first refuses a fenced
 * process (`FENCED`): a process whose heartbeat lapsed may wake up (a
 * paused process resumed) and must not touch the edge again.
 *
 * An edge's keys (see `keys.ts`): `s` its stream (one entry per batch:
 * `s` the sender's index, `n` its messages, `b` the batch), `t` the count
 * of free credit tokens, `h` the tokens each sender holds, `n` the entries of
 * each sender still in the stream, `d` the senders done, `w` and `k` two
 * doorbell streams (a few entries each, never a bound) that a receiver
 * and a sender waiting for credit block on.
 *
 * @module
 */

/** A script with the name errors name it by. */
export interface Script {
  readonly name: string;
  readonly lua: string;
}

const FENCE = `
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then
  return redis.error_reply('FENCED process ' .. ARGV[1] .. ' was declared dead')
end`;

const LAST_ID = `
local function last_id(key)
  local x = redis.call('XREVRANGE', key, '+', '-', 'COUNT', 1)
  if #x > 0 then return x[1][1] end
  return '0-0'
end`;

/** How long an edge's keys live unless the coordinator refreshes them. */
export const KEY_TTL_MS = 60_000;

/** A key made again (expired, then added to) keeps expiring. */
const EXPIRING = `
local function expiring(key)
  if redis.call('PTTL', key) == -1 then redis.call('PEXPIRE', key, ${KEY_TTL_MS}) end
end`;

/** Free tokens are a count (a string key): adding to it keeps it expiring. */
const PUSH = `${EXPIRING}
local function push(key, n)
  redis.call('INCRBY', key, n)
  expiring(key)
end
local function free(key) return tonumber(redis.call('GET', key) or '0') end`;

/**
 * Hands free tokens to the senders waiting for them (a field `q:<holder>`
 * of the edge's `h` hash: how many each still waits for), in the order they
 * asked: the tokens move to the holder, and its count of tokens granted so
 * far (`g:<holder>`) goes, with the holder, into the credit doorbell. A
 * waiting sender blocks on the doorbell and takes what it was granted from
 * there, without a script of its own. The count is cumulative, so a sender
 * that missed an entry (trimmed) learns it from the next one, or from the
 * reply of its next take or give-back.
 */
const GRANT = `
local function grant(t, h, k)
  local left = tonumber(redis.call('GET', t) or '0')
  if left <= 0 then return end
  local all = redis.call('HGETALL', h)
  local fields = {}
  local granted = 0
  for i = 1, #all, 2 do
    if left <= 0 then break end
    local f = all[i]
    if string.sub(f, 1, 2) == 'q:' then
      local holder = string.sub(f, 3)
      local owed = tonumber(all[i + 1])
      local n = math.min(owed, left)
      if n > 0 then
        left = left - n
        granted = granted + n
        redis.call('HINCRBY', h, holder, n)
        if n >= owed then redis.call('HDEL', h, f) else redis.call('HINCRBY', h, f, -n) end
        fields[#fields + 1] = holder
        fields[#fields + 1] = redis.call('HINCRBY', h, 'g:' .. holder, n)
      end
    end
  end
  if granted > 0 then
    redis.call('DECRBY', t, granted)
    redis.call('XADD', k, 'MAXLEN', '16', '*', unpack(fields))
  end
end`;

/**
 * Makes an edge: KEYS fenced, s, t, h, n, d, w, k; ARGV maxsize, group,
 * then holder and grant pairs (the first credits of each sender).
 */
export const CREATE: Script = {
  name: "create",
  lua: `${PUSH}
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8])
local free = tonumber(ARGV[1])
for i = 3, #ARGV, 2 do
  local n = tonumber(ARGV[i + 1])
  if n > 0 then
    redis.call('HSET', KEYS[4], ARGV[i], n)
    free = free - n
  end
end
redis.call('SET', KEYS[3], free)
redis.call('XGROUP', 'CREATE', KEYS[2], ARGV[2], '0', 'MKSTREAM')
-- Every key exists from here on, expiring unless the coordinator
-- refreshes it (it stops when it dies).
redis.call('HSET', KEYS[4], '-', 0)
redis.call('HSET', KEYS[5], '-', 0)
redis.call('SADD', KEYS[6], '-')
redis.call('XADD', KEYS[7], 'MAXLEN', '4', '*', 'c', '1')
redis.call('XADD', KEYS[8], 'MAXLEN', '4', '*', 'c', '1')
redis.call('SADD', KEYS[1], '-')
for i = 1, 8 do redis.call('PEXPIRE', KEYS[i], ${KEY_TTL_MS}) end
return free`,
};

/**
 * Takes up to ARGV[3] tokens for holder ARGV[2]: KEYS fenced, t, h, k. What
 * it cannot take now, the holder waits for (`q:<holder>`, see GRANT).
 * Returns `{taken, id, free, granted}`: the credit doorbell's last id, to
 * block on from there for grants, and the holder's tokens granted so far.
 */
export const TAKE: Script = {
  name: "take",
  lua: `${FENCE}${LAST_ID}
local left = tonumber(redis.call('GET', KEYS[2]) or '0')
local want = tonumber(ARGV[3])
local got = math.min(left, want)
if got > 0 then
  redis.call('DECRBY', KEYS[2], got)
  redis.call('HINCRBY', KEYS[3], ARGV[2], got)
end
if got < want then
  redis.call('HSET', KEYS[3], 'q:' .. ARGV[2], want - got)
else
  redis.call('HDEL', KEYS[3], 'q:' .. ARGV[2])
end
return {got, last_id(KEYS[4]), left - got, tonumber(redis.call('HGET', KEYS[3], 'g:' .. ARGV[2]) or '0')}`,
};

/**
 * Gives ARGV[3] tokens of holder ARGV[2] back, and ends its wait for more:
 * KEYS fenced, t, h, k. Returns `{free, granted}` (see TAKE).
 */
export const GIVE: Script = {
  name: "give",
  lua: `${FENCE}${PUSH}${GRANT}
local n = tonumber(ARGV[3])
redis.call('HDEL', KEYS[3], 'q:' .. ARGV[2])
if n > 0 then
  redis.call('HINCRBY', KEYS[3], ARGV[2], -n)
  push(KEYS[2], n)
  grant(KEYS[2], KEYS[3], KEYS[4])
end
return {free(KEYS[2]), tonumber(redis.call('HGET', KEYS[3], 'g:' .. ARGV[2]) or '0')}`,
};

/**
 * Acknowledges entries of group `group` on the stream `s`: ARGV from
 * `from` on, triples of id, sender and messages. Each entry still pending
 * is acknowledged, deleted, and its tokens go back. Returns the free tokens.
 */
const ACK_FN = `${PUSH}${GRANT}
local function ack(s, t, n, w, k, h, group, from)
  local tokens = 0
  local ended = false
  for i = from, #ARGV, 3 do
    if redis.call('XACK', s, group, ARGV[i]) == 1 then
      redis.call('XDEL', s, ARGV[i])
      tokens = tokens + tonumber(ARGV[i + 2])
      if redis.call('HINCRBY', n, ARGV[i + 1], -1) <= 0 then ended = true end
    end
  end
  if tokens > 0 then
    push(t, tokens)
    grant(t, h, k)
  end
  if ended then redis.call('XADD', w, 'MAXLEN', '4', '*', 'e', '1') end
  return free(t)
end`;

/**
 * Posts ARGV[4] entries of sender ARGV[3], holder ARGV[2] (ARGV from 5 on,
 * pairs of messages and batch): their tokens move from the holder to the
 * entries. KEYS fenced, s, h, n. With six KEYS more (s, t, n, w, k, h of the
 * edge this process receives the batches' messages from), it acknowledges
 * there, in the same step, the entries whose messages what it posts (and
 * posted before) came from: ARGV after the pairs, their group, then triples
 * of id, sender and messages. An entry is never acknowledged before what
 * was made of it is in Redis, and never left unacknowledged after it is
 * (but for a process that dies between two steps: then it is delivered
 * again). Returns the free tokens of the edge acknowledged on, or -1.
 */
export const POST: Script = {
  name: "post",
  lua: `${FENCE}${ACK_FN}
local c = tonumber(ARGV[4])
local total = 0
for i = 0, c - 1 do
  local n = ARGV[5 + 2 * i]
  redis.call('XADD', KEYS[2], '*', 's', ARGV[3], 'n', n, 'b', ARGV[6 + 2 * i])
  total = total + tonumber(n)
end
redis.call('HINCRBY', KEYS[3], ARGV[2], -total)
redis.call('HINCRBY', KEYS[4], ARGV[3], c)
if #KEYS > 4 then
  return ack(KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9], KEYS[10], ARGV[5 + 2 * c], 6 + 2 * c)
end
return -1`,
};

/** Marks sender ARGV[2] done: KEYS fenced, d, w. */
export const DONE: Script = {
  name: "done",
  lua: `${FENCE}
redis.call('SADD', KEYS[2], ARGV[2])
redis.call('XADD', KEYS[3], 'MAXLEN', '4', '*', 'd', ARGV[2])
return 1`,
};

/**
 * Reads up to ARGV[4] new entries for consumer ARGV[3] of group ARGV[2]:
 * KEYS fenced, s, d, n, w, t. Returns `{entries, ended, lastS, lastW,
 * free}`:
 * `ended` the senders done whose entries are all acknowledged (their end
 * of stream), and the last ids of the stream and of the receivers'
 * doorbell, to block on when nothing was read, and the free tokens.
 */
export const READ: Script = {
  name: "read",
  lua: `${FENCE}${LAST_ID}
local entries = {}
if tonumber(ARGV[4]) > 0 then
  local r = redis.call('XREADGROUP', 'GROUP', ARGV[2], ARGV[3], 'COUNT', ARGV[4], 'STREAMS', KEYS[2], '>')
  if r then entries = r[1][2] end
end
local ended = {}
for _, s in ipairs(redis.call('SMEMBERS', KEYS[3])) do
  if s ~= '-' then
    local left = tonumber(redis.call('HGET', KEYS[4], s) or '0')
    if left <= 0 then ended[#ended + 1] = s end
  end
end
return {entries, ended, last_id(KEYS[2]), last_id(KEYS[5]), tonumber(redis.call('GET', KEYS[6]) or '0')}`,
};

/**
 * Acknowledges entries of group ARGV[2]: ARGV from 3 on, triples of id,
 * sender and messages. Each entry still pending is acknowledged, deleted,
 * and its tokens go back. KEYS fenced, s, t, n, w, k, h.
 */
export const ACK: Script = {
  name: "ack",
  lua: `${FENCE}${ACK_FN}
return ack(KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], ARGV[2], 3)`,
};

/**
 * Hands a dead consumer's pending entries to consumer ARGV[4] of group
 * ARGV[2]: ARGV[3] the dead one. KEYS fenced, s. Returns `{entries,
 * deliveries}`, the times each entry was delivered before.
 */
export const ADOPT: Script = {
  name: "adopt",
  lua: `${FENCE}
local pending = redis.call('XPENDING', KEYS[2], ARGV[2], '-', '+', 100000, ARGV[3])
if #pending == 0 then return {{}, {}} end
local ids = {}
local counts = {}
for i, p in ipairs(pending) do
  ids[i] = p[1]
  counts[p[1]] = p[4]
end
local claimed = redis.call('XCLAIM', KEYS[2], ARGV[2], ARGV[4], 0, unpack(ids))
local deliveries = {}
for i, e in ipairs(claimed) do deliveries[i] = counts[e[1]] end
return {claimed, deliveries}`,
};

/**
 * Fences process ARGV[1] and gives back the tokens its holders (ARGV from
 * 2 on) held on one edge: KEYS fenced, t, h, k.
 */
export const FENCE_EDGE: Script = {
  name: "fence",
  lua: `${PUSH}${GRANT}
redis.call('SADD', KEYS[1], ARGV[1])
local tokens = 0
for i = 2, #ARGV do
  local n = tonumber(redis.call('HGET', KEYS[3], ARGV[i]) or '0')
  if n > 0 then tokens = tokens + n end
  redis.call('HDEL', KEYS[3], ARGV[i], 'q:' .. ARGV[i], 'g:' .. ARGV[i])
end
if tokens > 0 then
  push(KEYS[2], tokens)
  grant(KEYS[2], KEYS[3], KEYS[4])
end
return tokens`,
};

/** Every script, loaded once per connection. */
export const SCRIPTS: readonly Script[] = [
  CREATE,
  TAKE,
  GIVE,
  POST,
  DONE,
  READ,
  ACK,
  ADOPT,
  FENCE_EDGE,
];
