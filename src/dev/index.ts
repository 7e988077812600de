// Local Slack harness: a Web API stand-in and builders for signed Slack → bot requests.
export * from './slack-stand-in';
export * from './slack-requests';
