'use strict';

const { baseUrl } = require('./base-url');

// The actions ("creates"): input fields come from the host's validated input classes.
const makeCreate = (entry) => ({
  key: entry.key,
  noun: entry.noun,
  display: { label: entry.label, description: entry.description },
  operation: {
    inputFields: entry.input_fields,
    perform: async (z, bundle) => {
      const body = {};
      for (const field of entry.input_fields) {
        const value = bundle.inputData[field.key];
        if (value !== undefined && value !== null && value !== '') {
          body[field.key] = value;
        }
      }
      const response = await z.request({
        url: `${baseUrl()}/api/zapier/actions/${entry.key}`,
        method: 'POST',
        body,
      });
      return response.data;
    },
    sample: entry.sample,
  },
});

module.exports = { makeCreate };
