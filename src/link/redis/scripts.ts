/**
 * The Lua scripts of the Redis transport. Every change to an edge's state
 * that must be exact across hosts is one script, so it runs atomically:
 * taking and giving back credit tokens, posting a batch, acknowledging
 * batches, marking a sender done. Each script first refuses a fenced
 * process (`FENCED`): a process whose heartbeat lapsed may wake up (a
 * paused process resumed) and must not touch the edge again.
 *
 * An edge's keys (see `keys.ts`): `s` its stream (one entry per batch:
 * `s` the sender's index, `n` its messages, `b` the batch), `t` the list of
 * free credit tokens, `h` the tokens each sender holds, `n` the entries of
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

/** A key made again (a list emptied, then pushed to) keeps expiring. */
const EXPIRING = `
local function expiring(key)
  if redis.call('PTTL', key) == -1 then redis.call('PEXPIRE', key, ${KEY_TTL_MS}) end
end`;

const PUSH = `${EXPIRING}
local function push(key, n)
  while n > 0 do
    local k = math.min(n, 1000)
    local tokens = {}
    for i = 1, k do tokens[i] = '1' end
    redis.call('RPUSH', key, unpack(tokens))
    n = n - k
  end
  expiring(key)
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
if free > 0 then push(KEYS[3], free) end
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
 * Takes up to ARGV[3] tokens for holder ARGV[2]: KEYS fenced, t, h, k.
 * Returns `{taken, id}`: with none taken, the credit doorbell's last id, to
 * block on from there without missing a give-back.
 */
export const TAKE: Script = {
  name: "take",
  lua: `${FENCE}${LAST_ID}
local got = redis.call('LPOP', KEYS[2], ARGV[3])
if got then
  redis.call('HINCRBY', KEYS[3], ARGV[2], #got)
  return {#got, '', redis.call('LLEN', KEYS[2])}
end
return {0, last_id(KEYS[4]), redis.call('LLEN', KEYS[2])}`,
};

/** Gives ARGV[3] tokens of holder ARGV[2] back: KEYS fenced, t, h, k. */
export const GIVE: Script = {
  name: "give",
  lua: `${FENCE}${PUSH}
local n = tonumber(ARGV[3])
if n > 0 then
  redis.call('HINCRBY', KEYS[3], ARGV[2], -n)
  push(KEYS[2], n)
  redis.call('XADD', KEYS[4], 'MAXLEN', '4', '*', 'g', n)
end
return redis.call('LLEN', KEYS[2])`,
};

/**
 * Posts a batch of ARGV[4] messages of sender ARGV[3], holder ARGV[2]:
 * its tokens move from the holder to the entry. KEYS fenced, s, h, n.
 */
export const POST: Script = {
  name: "post",
  lua: `${FENCE}
redis.call('XADD', KEYS[2], '*', 's', ARGV[3], 'n', ARGV[4], 'b', ARGV[5])
redis.call('HINCRBY', KEYS[3], ARGV[2], -tonumber(ARGV[4]))
redis.call('HINCRBY', KEYS[4], ARGV[3], 1)
return 1`,
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
return {entries, ended, last_id(KEYS[2]), last_id(KEYS[5]), redis.call('LLEN', KEYS[6])}`,
};

/**
 * Acknowledges entries of group ARGV[2]: ARGV from 3 on, triples of id,
 * sender and messages. Each entry still pending is acknowledged, deleted,
 * and its tokens go back. KEYS fenced, s, t, n, w, k.
 */
export const ACK: Script = {
  name: "ack",
  lua: `${FENCE}${PUSH}
local tokens = 0
local ended = false
for i = 3, #ARGV, 3 do
  if redis.call('XACK', KEYS[2], ARGV[2], ARGV[i]) == 1 then
    redis.call('XDEL', KEYS[2], ARGV[i])
    tokens = tokens + tonumber(ARGV[i + 2])
    if redis.call('HINCRBY', KEYS[4], ARGV[i + 1], -1) <= 0 then ended = true end
  end
end
if tokens > 0 then
  push(KEYS[3], tokens)
  redis.call('XADD', KEYS[6], 'MAXLEN', '4', '*', 'g', tokens)
end
if ended then redis.call('XADD', KEYS[5], 'MAXLEN', '4', '*', 'e', '1') end
return redis.call('LLEN', KEYS[3])`,
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
  lua: `${PUSH}
redis.call('SADD', KEYS[1], ARGV[1])
local tokens = 0
for i = 2, #ARGV do
  local n = tonumber(redis.call('HGET', KEYS[3], ARGV[i]) or '0')
  if n > 0 then tokens = tokens + n end
  redis.call('HDEL', KEYS[3], ARGV[i])
end
if tokens > 0 then
  push(KEYS[2], tokens)
  redis.call('XADD', KEYS[4], 'MAXLEN', '4', '*', 'g', tokens)
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
