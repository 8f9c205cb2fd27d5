/**
 * This package's version, sent in the back channel's `user-agent`. A constant rather than a JSON
 * import, so the build carries only this string; test/strategy/operator-text.test.ts (source) and
 * test/package.test.ts (the packed build) fail when it differs from package.json's `version`.
 */
export const PACKAGE_VERSION = '0.1.0';
