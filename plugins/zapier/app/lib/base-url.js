'use strict';

// Where the Intellectra integration host serves. Set per app version on Zapier with
// `zapier env:set <version> INTELLECTRA_BASE_URL=https://...`; tests point it at a local host.
const baseUrl = () => {
  const url = process.env.INTELLECTRA_BASE_URL;
  if (!url) {
    throw new Error(
      'INTELLECTRA_BASE_URL is not set for this app version; the platform team sets it with `zapier env:set`.',
    );
  }
  return url.replace(/\/+$/, '');
};

module.exports = { baseUrl };
