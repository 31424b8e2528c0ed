'use strict';

// Every request carries the creator's API key; every error the host answers becomes a message
// Zapier shows to the creator (the host's errors are {"error": {"code", "message", "fields"?}}).

const addApiKey = (request, z, bundle) => {
  if (bundle.authData && bundle.authData.api_key) {
    request.headers = request.headers || {};
    request.headers['X-API-Key'] = bundle.authData.api_key;
  }
  request.headers.Accept = 'application/json';
  return request;
};

const errorOf = (response) => {
  let body = response.data;
  if (body === undefined) {
    try {
      body = JSON.parse(response.content);
    } catch (e) {
      body = null;
    }
  }
  const error = body && body.error ? body.error : {};
  return {
    code: error.code || `http_${response.status}`,
    message: error.message || `Intellectra answered ${response.status}.`,
  };
};

const handleErrors = (response, z) => {
  if (response.status < 400) {
    return response;
  }
  const { code, message } = errorOf(response);
  if (response.status === 429) {
    const delay = parseInt(response.headers.get('retry-after') || '60', 10);
    throw new z.errors.ThrottledError(message, delay);
  }
  if (response.status === 401) {
    throw new z.errors.ExpiredAuthError(message);
  }
  throw new z.errors.Error(message, code, response.status);
};

module.exports = { addApiKey, handleErrors };
