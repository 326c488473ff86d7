/** @packageDocumentation @weft/core */
export const VERSION = "0.1.0";
