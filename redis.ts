/**
 * The Redis entry of baton (`@baton/relay/redis`): the same pipeline across
 * processes and machines, on Redis Streams. Importing it loads `npm:redis`;
 * `mod.ts` never does.
 *
 * @module
 */

export { RedisLink, type RedisLinkOptions } from "./src/link/redis/link.ts";
export {
  REDIS,
  type RedisEnd,
  RedisTransport,
  type RedisTransportOptions,
} from "./src/link/redis/transport.ts";
