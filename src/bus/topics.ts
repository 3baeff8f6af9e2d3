// AWS IoT's reserved topics as the bus sees them: which a device may publish requests on, and which only the service
// publishes (replies, notifications, lifecycle events). Pure string rules.

/** Filters of the request topics Flotilla serves (device → Flotilla). */
export const REQUEST_FILTERS = ['$aws/things/+/jobs/#', '$aws/things/+/shadow/#'] as const;

const REQUEST = /^\$aws\/things\/[^/]+\/(jobs|shadow)(\/|$)/;
/** Last levels of the topics on which AWS publishes answers and notifications, never devices. */
const SERVICE_SUFFIX = /\/(accepted|rejected|notify|notify-next|delta|documents)$|\/notify-namespace-[^/]+\/?$/;

/** True for a topic a device publishes to ask Flotilla something (`$aws/things/{thing}/jobs/get`, `…/shadow/update`). */
export function isRequestTopic(topic: string): boolean {
  return REQUEST.test(topic) && !SERVICE_SUFFIX.test(topic);
}

/**
 * True for a topic only the service may publish to: the replies and notifications under `$aws/things/…` and every
 * `$aws/events/…` topic. AWS refuses a device's publish there.
 */
export function isServiceOnlyTopic(topic: string): boolean {
  if (topic.startsWith('$aws/events/')) return true;
  return topic.startsWith('$aws/things/') && SERVICE_SUFFIX.test(topic);
}
