export { WeftError, WEFT_ERROR_BRAND, isWeftError, type WeftErrorOptions } from './weft-error';
export { InvalidOptionsError, MalformedPacketError, InvalidAddressError, UnderlayClosedError } from './shared-errors';
export { parseOptions, type OptionsSchema } from './parse-options';
