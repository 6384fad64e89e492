/**
 * @openclaw-mt/gateway/protocol — the OpenClaw Gateway wire protocol as the front door speaks it: frame
 * shapes and builders, protocol versions, parsing of request frames and `connect` params, and device
 * identity checks. For runtimes and bridges that read or write frames themselves.
 */
export {
  MIN_PROTOCOL,
  MAX_PROTOCOL,
  okFrame,
  errorFrame,
  eventFrame,
  type Frame,
  type RequestFrame,
  type ResponseFrame,
  type EventFrame,
} from './frames.js';
export { parseRequestFrame } from './parse-frame.js';
export { type ConnectParams, parseConnectParams, negotiateProtocol } from './connect-params.js';
export { verifyDeviceIdentity } from './device-identity.js';
export { forOpenClawControlUi, OPENCLAW_CONTROL_UI_CLIENT_ID } from './openclaw-auth-codes.js';
