'use strict';

const { baseUrl } = require('./base-url');

// One REST-hook trigger per domain event, built from catalog.json (generated from the host's
// event catalogue, so payloads, samples and output fields match what the host delivers).

const filtersOf = (entry, inputData) => {
  const filters = {};
  for (const field of entry.filters) {
    const value = inputData && inputData[field.key];
    if (value !== undefined && value !== null && value !== '') {
      filters[field.key] = value;
    }
  }
  return filters;
};

const makeTrigger = (entry) => ({
  key: entry.key,
  noun: entry.noun,
  display: { label: entry.label, description: entry.description },
  operation: {
    type: 'hook',
    inputFields: entry.filters,
    performSubscribe: async (z, bundle) => {
      const response = await z.request({
        url: `${baseUrl()}/api/zapier/hooks`,
        method: 'POST',
        body: { target_url: bundle.targetUrl, event: entry.event, filters: filtersOf(entry, bundle.inputData) },
      });
      return response.data;
    },
    performUnsubscribe: async (z, bundle) => {
      const id = encodeURIComponent(bundle.subscribeData.id);
      const response = await z.request({ url: `${baseUrl()}/api/zapier/hooks/${id}`, method: 'DELETE' });
      return response.data;
    },
    perform: (z, bundle) => [bundle.cleanedRequest],
    performList: async (z, bundle) => {
      const event = encodeURIComponent(entry.event);
      const response = await z.request({
        url: `${baseUrl()}/api/zapier/triggers/${event}/sample`,
        params: filtersOf(entry, bundle.inputData),
      });
      return response.data;
    },
    sample: entry.sample,
    outputFields: entry.output_fields,
  },
});

module.exports = { makeTrigger, filtersOf };
