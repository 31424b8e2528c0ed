'use strict';

const { baseUrl } = require('./base-url');

// Custom auth: the creator pastes an API key created on their site; /me names the connection.
module.exports = {
  type: 'custom',
  fields: [
    {
      key: 'api_key',
      label: 'API Key',
      type: 'password',
      required: true,
      helpText:
        'Create a key on your Intellectra site under **Settings > Integrations > Zapier** and paste it here. ' +
        'It is shown only once.',
    },
  ],
  test: async (z) => {
    const response = await z.request({ url: `${baseUrl()}/api/zapier/me` });
    return response.data;
  },
  connectionLabel: '{{name}}',
};
