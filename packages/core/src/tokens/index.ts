/**
 * @openclaw-mt/core/tokens — gateway tokens: the format (`gt_` + entropy + checksum, and the fork's
 * `gw_`), which formats a gateway accepts, hashing with peppers, ids shown to operators, issuing and
 * rotating through a token store, and redaction of tokens and secrets in text.
 */
export {
  TOKEN_PREFIX,
  TOKEN_ENTROPY_CHARS,
  MIN_TOKEN_ENTROPY_CHARS,
  TOKEN_CHECKSUM_CHARS,
  MAX_TOKEN_LENGTH,
  type ParsedToken,
  createToken,
  parseToken,
  isWellFormedToken,
  tokenFormatProblem,
} from './token-format.js';
export {
  type TokenFormatName,
  type TokenFormatPolicy,
  TOKEN_FORMAT_NAMES,
  GW_TOKEN_PREFIX,
  DEFAULT_TOKEN_FORMATS,
  tokenFormatOf,
  assertTokenFormats,
  createTokenFormatPolicy,
} from './token-formats.js';
export { MIN_PREFIX_DIGITS, parseTokenIdPrefix, pickByPrefix, SHOWN_HASH_DIGITS, shownTokenId } from './token-id-prefix.js';
export { type TokenHasher, type TokenHasherOptions, createTokenHasher } from './token-hasher.js';
export { tokenHint, redactText, redact } from './redact.js';
export { type IssuedToken, type IssueOptions, type TokenServiceOptions, TokenService, createTokenService } from '../auth/token-service.js';
