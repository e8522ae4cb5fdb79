/**
 * The Lua scripts of the broker. Each runs atomically in Redis, so offsets, history and fan-out
 * order always agree, and exactly one node claims an expired presence member.
 * Time comes from Redis (`TIME`), so every node shares one clock.
 */
import type { Redis } from 'ioredis';

const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/** Creates the channel's meta (a fresh epoch, offset 0) if it is missing; drops a stale log. */
const ENSURE_META = `
if redis.call('HSETNX', KEYS[1], 'epoch', ARGV[1]) == 1 then
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[1], 'top', 0)
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
local epoch = redis.call('HGET', KEYS[1], 'epoch')
`;

/**
 * publish: KEYS meta, log, busMeta, busLog;
 * ARGV newEpoch, metaTtl, payload, maxCount, maxAge, bus, newBusEpoch, busHistory.
 * Returns {offset, epoch, time}. Appends `offset epoch time payload` to the bus log under the next
 * bus sequence number (ids 0-1, 0-2, …) and PUBLISHes `seq busEpoch offset epoch time payload`.
 */
const PUBLISH = `${NOW}${ENSURE_META}
local offset = redis.call('HINCRBY', KEYS[1], 'top', 1)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
local maxCount = tonumber(ARGV[4])
local maxAge = tonumber(ARGV[5])
if maxCount > 0 then
  local id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', maxCount, '*', 'o', offset, 'p', ARGV[3])
  now = tonumber(string.match(id, '^(%d+)'))
  redis.call('XTRIM', KEYS[2], 'MINID', '~', now - maxAge)
  redis.call('PEXPIRE', KEYS[2], maxAge)
end
if redis.call('EXISTS', KEYS[4]) == 0 then redis.call('HSET', KEYS[3], 'epoch', ARGV[7]) end
local busEpoch = redis.call('HGET', KEYS[3], 'epoch')
local body = offset .. ' ' .. epoch .. ' ' .. now .. ' ' .. ARGV[3]
local busId = redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[8], '0-*', 'm', body)
redis.call('PUBLISH', ARGV[6], string.sub(busId, 3) .. ' ' .. busEpoch .. ' ' .. body)
return {offset, epoch, now}
`;

/**
 * bus replay: KEYS busMeta, busLog; ARGV afterSeq, busEpoch, count.
 * Returns {busEpoch, recovered (0|1), entries}: bus log entries after `afterSeq`, oldest first.
 * Not recovered when the bus epoch changed (Redis lost its data) or the log was trimmed past it.
 */
const BUS_REPLAY = `
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if not epoch or epoch ~= ARGV[2] then return {epoch or '', 0, {}} end
local after = tonumber(ARGV[1])
local entries = redis.call('XRANGE', KEYS[2], '0-' .. (after + 1), '+', 'COUNT', tonumber(ARGV[3]))
if #entries > 0 and tonumber(string.sub(entries[1][1], 3)) ~= after + 1 then return {epoch, 0, {}} end
return {epoch, 1, entries}
`;

/** bus top: KEYS busMeta, busLog. Returns {busEpoch, lastSeq} or false when nothing was published. */
const BUS_TOP = `
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if not epoch then return false end
local last = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
if #last == 0 then return false end
return {epoch, tonumber(string.sub(last[1][1], 3))}
`;

/**
 * history: KEYS meta, log; ARGV newEpoch, metaTtl, afterOffset, afterEpoch, maxCount, maxAge.
 * Returns {epoch, top, recovered (0|1), entries}; entries newest first, as XREVRANGE gives them.
 * Offsets are dense in the log, so the messages after `after` are exactly its last `top - after`
 * entries; the oldest of them must carry offset `after + 1` and be younger than `maxAge`.
 */
const HISTORY = `${NOW}${ENSURE_META}
local top = tonumber(redis.call('HGET', KEYS[1], 'top') or '0')
local after = tonumber(ARGV[3])
if ARGV[4] ~= epoch then
  if after == 0 and top == 0 then return {epoch, top, 1, {}} end
  return {epoch, top, 0, {}}
end
if after >= top then return {epoch, top, 1, {}} end
local need = top - after
if after < 0 or need > tonumber(ARGV[5]) then return {epoch, top, 0, {}} end
local entries = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', need)
if #entries < need then return {epoch, top, 0, {}} end
local oldest = entries[#entries]
local fields = oldest[2]
local offset = nil
for i = 1, #fields, 2 do
  if fields[i] == 'o' then offset = tonumber(fields[i + 1]) end
end
local ms = tonumber(string.match(oldest[1], '^(%d+)'))
if offset ~= after + 1 or ms < now - tonumber(ARGV[6]) then return {epoch, top, 0, {}} end
return {epoch, top, 1, entries}
`;

/** position: KEYS meta, log; ARGV newEpoch, metaTtl. Returns {epoch, top}. */
const POSITION = `${ENSURE_META}
return {epoch, tonumber(redis.call('HGET', KEYS[1], 'top') or '0')}
`;

/**
 * presence enter / refresh: KEYS members, expiry; ARGV clientId, memberJson, ttlMs, expiryEntry.
 * Returns 1 when the member was not there (a join is due).
 */
const PRESENCE_ENTER = `${NOW}
local ttl = tonumber(ARGV[3])
local added = redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], now + ttl, ARGV[4])
if redis.call('PTTL', KEYS[1]) < ttl * 2 then redis.call('PEXPIRE', KEYS[1], ttl * 2) end
return added
`;

/** presence leave: KEYS members, expiry; ARGV clientId, expiryEntry. Returns the member JSON or false. */
const PRESENCE_LEAVE = `
local member = redis.call('HGET', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[2])
return member
`;

/** presence members: KEYS members, expiry; ARGV channel. Returns member JSON strings not yet expired. */
const PRESENCE_MEMBERS = `${NOW}
local all = redis.call('HGETALL', KEYS[1])
local out = {}
for i = 1, #all, 2 do
  local score = redis.call('ZSCORE', KEYS[2], ARGV[1] .. '\\n' .. all[i])
  if score and tonumber(score) >= now then out[#out + 1] = all[i + 1] end
end
return out
`;

/**
 * presence sweep: KEYS expiry; ARGV keyPrefix, limit. Claims (removes) up to `limit` expired
 * members of every channel and returns {channel, clientId, memberJson-or-empty, …}. Only one node
 * can claim a given member, so exactly one leave event is published for it.
 * Touches the members hashes by name: standalone Redis or Sentinel, not Redis Cluster.
 */
const PRESENCE_SWEEP = `${NOW}
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
for _, entry in ipairs(expired) do
  redis.call('ZREM', KEYS[1], entry)
  local nl = string.find(entry, '\\n', 1, true)
  if nl then
    local channel = string.sub(entry, 1, nl - 1)
    local clientId = string.sub(entry, nl + 1)
    local key = ARGV[1] .. '{' .. channel .. '}:members'
    local member = redis.call('HGET', key, clientId)
    redis.call('HDEL', key, clientId)
    out[#out + 1] = channel
    out[#out + 1] = clientId
    out[#out + 1] = member or ''
  end
end
return out
`;

/**
 * session claim: KEYS session, node; ARGV nodeId, sessionTtl, nodeTtl. Records the owner and marks
 * the node alive (so a lookup right after the handshake finds it).
 */
const SESSION_CLAIM = `
redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`;

/** session owner: KEYS session; ARGV nodeKeyPrefix. Returns the owner's id while that node lives. */
const SESSION_OWNER = `
local owner = redis.call('GET', KEYS[1])
if not owner then return false end
if redis.call('EXISTS', ARGV[1] .. owner) == 0 then return false end
return owner
`;

/** session release: KEYS session; ARGV nodeId. Deletes the record only if this node still owns it. */
const SESSION_RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/**
 * session refresh: KEYS node; ARGV nodeTtl, sessionKeyPrefix, nodeId, then (clientId, ttl) pairs.
 * Marks the node alive and extends the records it still owns.
 */
const SESSION_REFRESH = `
redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
for i = 4, #ARGV, 2 do
  local key = ARGV[2] .. ARGV[i]
  if redis.call('GET', key) == ARGV[3] then redis.call('PEXPIRE', key, ARGV[i + 1]) end
end
return 1
`;

/**
 * relay send: KEYS stream; ARGV payload, backlog, ttlMs. Appends the payload to a node's relay
 * Stream unless it already holds `backlog` unread entries (its reader trims what it handled).
 * Returns 1 when appended, 0 when refused.
 */
const RELAY_SEND = `
if redis.call('XLEN', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('XADD', KEYS[1], '*', 'p', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`;

/** A raw history entry: `[streamId, [field, value, …]]`. */
export type StreamEntry = [string, string[]];

/** The typed script commands the broker calls on its command connection. */
export interface BrokerScripts {
  pushPublish(
    meta: string,
    log: string,
    busMeta: string,
    busLog: string,
    ...args: (string | number)[]
  ): Promise<[number, string, number]>;
  pushBusTop(busMeta: string, busLog: string): Promise<[string, number] | null>;
  pushBusReplay(
    busMeta: string,
    busLog: string,
    afterSeq: number,
    busEpoch: string,
    count: number,
  ): Promise<[string, number, StreamEntry[]]>;
  pushHistory(
    meta: string,
    log: string,
    ...args: (string | number)[]
  ): Promise<[string, number, number, StreamEntry[]]>;
  pushPosition(meta: string, log: string, ...args: (string | number)[]): Promise<[string, number]>;
  pushPresenceEnter(members: string, expiry: string, ...args: (string | number)[]): Promise<number>;
  pushPresenceLeave(members: string, expiry: string, ...args: string[]): Promise<string | null>;
  pushPresenceMembers(members: string, expiry: string, channel: string): Promise<string[]>;
  pushPresenceSweep(expiry: string, prefix: string, limit: number): Promise<string[]>;
  pushSessionClaim(session: string, node: string, ...args: (string | number)[]): Promise<number>;
  pushSessionOwner(session: string, nodePrefix: string): Promise<string | null>;
  pushSessionRelease(session: string, nodeId: string): Promise<number>;
  pushSessionRefresh(node: string, ...args: (string | number)[]): Promise<number>;
  pushRelaySend(stream: string, payload: string, backlog: number, ttlMs: number): Promise<number>;
  /** Plain XTRIM … MINID (a relay reader drops what it handled). */
  xtrim(stream: string, strategy: 'MINID', threshold: string): Promise<number>;
  /** Plain DEL (a stopping node drops its relay Stream). */
  del(key: string): Promise<number>;
}

/** Registers the scripts on `redis` (EVALSHA, falling back to EVAL after a Redis restart). */
export function defineScripts(redis: Redis): Redis & BrokerScripts {
  redis.defineCommand('pushPublish', { numberOfKeys: 4, lua: PUBLISH });
  redis.defineCommand('pushBusReplay', { numberOfKeys: 2, lua: BUS_REPLAY });
  redis.defineCommand('pushBusTop', { numberOfKeys: 2, lua: BUS_TOP });
  redis.defineCommand('pushHistory', { numberOfKeys: 2, lua: HISTORY });
  redis.defineCommand('pushPosition', { numberOfKeys: 2, lua: POSITION });
  redis.defineCommand('pushPresenceEnter', { numberOfKeys: 2, lua: PRESENCE_ENTER });
  redis.defineCommand('pushPresenceLeave', { numberOfKeys: 2, lua: PRESENCE_LEAVE });
  redis.defineCommand('pushPresenceMembers', { numberOfKeys: 2, lua: PRESENCE_MEMBERS });
  redis.defineCommand('pushPresenceSweep', { numberOfKeys: 1, lua: PRESENCE_SWEEP });
  redis.defineCommand('pushSessionClaim', { numberOfKeys: 2, lua: SESSION_CLAIM });
  redis.defineCommand('pushSessionOwner', { numberOfKeys: 1, lua: SESSION_OWNER });
  redis.defineCommand('pushSessionRelease', { numberOfKeys: 1, lua: SESSION_RELEASE });
  redis.defineCommand('pushSessionRefresh', { numberOfKeys: 1, lua: SESSION_REFRESH });
  redis.defineCommand('pushRelaySend', { numberOfKeys: 1, lua: RELAY_SEND });
  return redis as Redis & BrokerScripts;
}
