// Activities as Teams (or the Agents Playground) sends them to /api/messages.
export interface TestUser {
  id: string;
  aadObjectId: string;
  name: string;
}

export const ALICE: TestUser = { id: '29:alice', aadObjectId: 'aad-alice-0001', name: 'Alice Requester' };
export const BOB: TestUser = { id: '29:bob', aadObjectId: 'aad-bob-0002', name: 'Bob Approver' };
export const CAROL: TestUser = { id: '29:carol', aadObjectId: 'aad-carol-0004', name: 'Carol Approver' };
export const MALLORY: TestUser = { id: '29:mallory', aadObjectId: 'aad-mallory-0003', name: 'Mallory Outsider' };

let seq = 0;

export function baseActivity(serviceUrl: string, user: TestUser, conversationId = 'conv-general') {
  return {
    channelId: 'msteams',
    serviceUrl,
    id: `in-${++seq}`,
    timestamp: new Date().toISOString(),
    from: { id: user.id, name: user.name, aadObjectId: user.aadObjectId },
    recipient: { id: '28:cmk-chatops', name: 'cmk-chatops' },
    conversation: { id: conversationId, conversationType: 'channel', tenantId: 'tenant-1' },
  };
}

export function message(serviceUrl: string, user: TestUser, text: string, conversationId?: string) {
  return { ...baseActivity(serviceUrl, user, conversationId), type: 'message', text };
}

export function cardAction(serviceUrl: string, user: TestUser, verb: string, data: Record<string, unknown>, replyToId?: string, conversationId?: string) {
  return {
    ...baseActivity(serviceUrl, user, conversationId),
    type: 'invoke',
    name: 'adaptiveCard/action',
    replyToId,
    value: { action: { type: 'Action.Execute', verb, data }, trigger: 'manual' },
  };
}

export async function post(appUrl: string, activity: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${appUrl}/api/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(activity),
  });
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = text;
  }
  return { status: res.status, body: body as { statusCode?: number; type?: string; value?: unknown } | undefined };
}
