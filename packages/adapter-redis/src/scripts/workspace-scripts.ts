import { defineLua } from '../lua-script.js';

/**
 * Shared preamble: refuses the write when the writer's fence (ARGV[1], '' for unfenced writers) is
 * older than the tenant's current fence (KEYS[3]) — the check and the write happen in one script, so
 * a stale owner can never slip a write in after a new owner took over.
 */
const FENCE_CHECK = `
if ARGV[1] ~= '' then
  local current = tonumber(redis.call('GET', KEYS[3]) or '0')
  if current > tonumber(ARGV[1]) then return {'LEASE_LOST', current} end
end
`;

/**
 * Creates a workspace's state when missing. KEYS[1] state, KEYS[2] meta, KEYS[3] fence;
 * ARGV fence, now. Returns {'CREATED'} or {'OK'} (or {'LEASE_LOST', fence}).
 */
export const INIT_WORKSPACE = defineLua(
  'init-workspace',
  `${FENCE_CHECK}
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], 'usage', 0, 'createdAt', ARGV[2])
  return {'CREATED'}
end
return {'OK'}
`,
);

/**
 * One file operation with the size caps checked atomically. KEYS[1] state, KEYS[2] meta, KEYS[3]
 * fence, KEYS[4] file; ARGV fence, mode (set|append|delete), name, data, now, maxFileBytes,
 * maxWorkspaceBytes. Returns {'OK', size or existed} or {'LIMIT', newSize, oldSize, usage},
 * {'NOT_FOUND'}, {'LEASE_LOST', fence}.
 */
export const WRITE_FILE = defineLua(
  'write-file',
  `${FENCE_CHECK}
if redis.call('EXISTS', KEYS[1]) == 0 then return {'NOT_FOUND'} end
local mode = ARGV[2]
local old = redis.call('STRLEN', KEYS[4])
if mode == 'delete' then
  if redis.call('HDEL', KEYS[2], ARGV[3]) == 0 then return {'OK', 0} end
  redis.call('DEL', KEYS[4])
  redis.call('HINCRBY', KEYS[1], 'usage', -old)
  return {'OK', 1}
end
local size = string.len(ARGV[4])
if mode == 'append' then size = old + size end
local usage = tonumber(redis.call('HGET', KEYS[1], 'usage') or '0')
if size > tonumber(ARGV[6]) or usage - old + size > tonumber(ARGV[7]) then return {'LIMIT', size, old, usage} end
if mode == 'append' then redis.call('APPEND', KEYS[4], ARGV[4]) else redis.call('SET', KEYS[4], ARGV[4]) end
redis.call('HSET', KEYS[2], ARGV[3], string.format('%.0f', size) .. ':' .. ARGV[5])
redis.call('HINCRBY', KEYS[1], 'usage', size - old)
return {'OK', size}
`,
);

/**
 * A write-back batch, all or nothing: KEYS[1] state, KEYS[2] meta, KEYS[3] fence, KEYS[4..] one file
 * key per operation; ARGV fence, now, maxFileBytes, maxWorkspaceBytes, then (op 'w'|'d', name, data)
 * triples. Returns {'OK', usage}, {'FILE_TOO_LARGE', name, size}, {'QUOTA_EXCEEDED', usage, total},
 * {'NOT_FOUND'} or {'LEASE_LOST', fence}.
 */
export const WRITE_BACK = defineLua(
  'write-back',
  `${FENCE_CHECK}
if redis.call('EXISTS', KEYS[1]) == 0 then return {'NOT_FOUND'} end
local usage = tonumber(redis.call('HGET', KEYS[1], 'usage') or '0')
local maxFile = tonumber(ARGV[3])
local total = usage
for i = 4, #KEYS do
  local at = 5 + (i - 4) * 3
  local old = redis.call('STRLEN', KEYS[i])
  if ARGV[at] == 'd' then
    total = total - old
  else
    local size = string.len(ARGV[at + 2])
    if size > maxFile then return {'FILE_TOO_LARGE', ARGV[at + 1], size} end
    total = total - old + size
  end
end
if total > tonumber(ARGV[4]) then return {'QUOTA_EXCEEDED', usage, total} end
for i = 4, #KEYS do
  local at = 5 + (i - 4) * 3
  if ARGV[at] == 'd' then
    redis.call('DEL', KEYS[i])
    redis.call('HDEL', KEYS[2], ARGV[at + 1])
  else
    local data = ARGV[at + 2]
    redis.call('SET', KEYS[i], data)
    redis.call('HSET', KEYS[2], ARGV[at + 1], string.format('%.0f', string.len(data)) .. ':' .. ARGV[2])
  end
end
redis.call('HSET', KEYS[1], 'usage', string.format('%.0f', total))
return {'OK', total}
`,
);

/** Stores the template manifest. KEYS[1] state, KEYS[2] meta, KEYS[3] fence; ARGV fence, manifest JSON. */
export const WRITE_MANIFEST = defineLua(
  'write-manifest',
  `${FENCE_CHECK}
if redis.call('EXISTS', KEYS[1]) == 0 then return {'NOT_FOUND'} end
redis.call('HSET', KEYS[1], 'manifest', ARGV[2])
return {'OK'}
`,
);

/**
 * Deletes a workspace: every file key named in its meta hash (they share its hash tag), the meta and
 * the state. KEYS[1] state, KEYS[2] meta; ARGV file key prefix. Returns 1 if it existed.
 */
export const DESTROY_WORKSPACE = defineLua(
  'destroy-workspace',
  `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
for _, name in ipairs(redis.call('HKEYS', KEYS[2])) do
  redis.call('UNLINK', ARGV[1] .. name)
end
redis.call('DEL', KEYS[1], KEYS[2])
return 1
`,
);
