'use strict';

// The Intellectra app on Zapier: API-key auth, one REST-hook trigger per domain event, the actions.
const { version } = require('./package.json');
const { version: platformVersion } = require('zapier-platform-core');

const authentication = require('./lib/authentication');
const catalog = require('./catalog.json');
const { addApiKey, handleErrors } = require('./lib/middleware');
const { makeCreate } = require('./lib/creates');
const { makeTrigger } = require('./lib/triggers');

const byKey = (items) => Object.fromEntries(items.map((item) => [item.key, item]));

module.exports = {
  version,
  platformVersion,
  authentication,
  beforeRequest: [addApiKey],
  afterResponse: [handleErrors],
  triggers: byKey(catalog.triggers.map(makeTrigger)),
  creates: byKey(catalog.actions.map(makeCreate)),
};
