'use strict';

// The Zapier app against a live Intellectra host on loopback (no network beyond 127.0.0.1).
const assert = require('node:assert/strict');
const { after, before, describe, it } = require('node:test');

const zapier = require('zapier-platform-core');

const App = require('../index');
const { startLiveHost } = require('./live-host');

const appTester = zapier.createAppTester(App);

describe('the Intellectra Zapier app', () => {
  let live;
  let authData;

  before(async () => {
    live = await startLiveHost();
    process.env.INTELLECTRA_BASE_URL = live.baseUrl;
    authData = { api_key: live.apiKey };
  });

  after(async () => {
    if (live) await live.stop();
  });

  it('has one trigger per domain event and the four actions', () => {
    assert.equal(Object.keys(App.triggers).length, 12);
    assert.deepEqual(Object.keys(App.creates), ['create_member', 'enroll_member', 'unenroll_member', 'add_tag']);
  });

  it('defines exactly the triggers the host it talks to lists (its event catalogue)', async () => {
    const catalog = require('../catalog.json');
    const response = await fetch(`${live.baseUrl}/api/zapier/triggers`, { headers: { 'x-api-key': live.apiKey } });
    assert.equal(response.status, 200);
    assert.deepEqual((await response.json()).triggers, catalog.triggers);
  });

  it('authenticates with the API key and names the connection after the site', async () => {
    const me = await appTester(App.authentication.test, { authData });
    assert.equal(me.id, live.tenant.id);
    assert.equal(me.name, 'Zap Test Studio');
    assert.equal(App.authentication.connectionLabel, '{{name}}');
  });

  it('shows the host message for a wrong key', async () => {
    await assert.rejects(
      appTester(App.authentication.test, { authData: { api_key: 'ik_wrong' } }),
      /not valid or was revoked/,
    );
  });

  it('subscribes, receives the delivered payload, performs it and unsubscribes', async () => {
    const trigger = App.triggers.enrollment_created.operation;
    const targetUrl = `${live.receiver.url}/hooks/standard/1/zap`;
    const subscribeData = await appTester(trigger.performSubscribe, {
      authData,
      targetUrl,
      inputData: { course_id: 'crs_watercolour' },
    });
    assert.equal(subscribeData.event, 'enrollment.created');
    assert.deepEqual(subscribeData.filters, { course_id: 'crs_watercolour' });

    const eventId = await live.emit('enrollment.created', {
      enrollment_id: 'enr_1',
      member_id: 'mem_1',
      email: 'member@example.com',
      course_id: 'crs_watercolour',
    });
    const delivery = await live.waitFor(
      () => live.receiver.received.find((r) => r.body.id === eventId),
      'the delivery to reach the receiver',
    );
    assert.equal(delivery.url, '/hooks/standard/1/zap');
    assert.ok(delivery.headers['webhook-signature']);

    const items = await appTester(trigger.perform, { authData, cleanedRequest: delivery.body });
    assert.deepEqual(items, [delivery.body]);
    assert.equal(items[0].data.email, 'member@example.com');

    await appTester(trigger.performUnsubscribe, { authData, subscribeData });
    assert.deepEqual(await live.hooks(), []);
  });

  it('lists a stable example before any event, then real payloads newest first', async () => {
    const trigger = App.triggers.member_created.operation;
    const [example] = await appTester(trigger.performList, { authData });
    assert.equal(example.id, 'ev_example_member_created');
    assert.deepEqual(Object.keys(example.data).sort(), Object.keys(trigger.sample.data).sort());

    const first = await live.emit('member.created', { member_id: 'mem_1', email: 'a@example.com' });
    const items = await appTester(trigger.performList, { authData });
    assert.equal(items[0].id, first);
    assert.deepEqual(Object.keys(items[0]).sort(), Object.keys(trigger.sample).sort());
  });

  it("lists only what the Zap's filters would let through", async () => {
    const trigger = App.triggers.enrollment_created.operation;
    const enrol = (n, course) =>
      live.emit('enrollment.created', { enrollment_id: `enr_${n}`, member_id: `mem_${n}`, email: `m${n}@example.com`,
                                        course_id: course });
    const wanted = await enrol(1, 'crs_only_this_zap');
    await enrol(2, 'crs_ink');

    const items = await appTester(trigger.performList, { authData, inputData: { course_id: 'crs_only_this_zap' } });
    assert.deepEqual(items.map((item) => item.id), [wanted]);
    const [example] = await appTester(trigger.performList, { authData, inputData: { course_id: 'crs_none_yet' } });
    assert.equal(example.id, 'ev_example_enrollment_created');
    assert.equal(example.data.course_id, 'crs_none_yet');
  });

  it('enrolls a member through the host app', async () => {
    const result = await appTester(App.creates.enroll_member.operation.perform, {
      authData,
      inputData: { email: 'member@example.com', course_id: 'crs_watercolour' },
    });
    assert.deepEqual(result, {
      enrollment_id: 'enr_test',
      email: 'member@example.com',
      course_id: 'crs_watercolour',
      site: 'Zap Test Studio',
    });
  });

  it('shows validation errors to the user', async () => {
    await assert.rejects(
      appTester(App.creates.enroll_member.operation.perform, {
        authData,
        inputData: { email: 'not-an-email', course_id: 'crs_watercolour' },
      }),
      /email 'not-an-email' is not an email address/,
    );
  });
});
