import { afterAll } from 'vitest';
import { Leftovers } from './support/fixture.js';
import { redisConformance } from './support/conformance.js';
import { SHARED_REDIS_URL } from './support/redis-servers.js';

// The kit against the shared single server: every namespace gets its own key prefix, deleted after use.
const leftovers = new Leftovers({ url: SHARED_REDIS_URL });
afterAll(() => leftovers.cleanup());

redisConformance(
  'redis (single server)',
  () => ({ url: SHARED_REDIS_URL }),
  () => leftovers,
  'single',
);
