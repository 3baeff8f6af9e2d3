// Reading the registry through the SDK in tests: every page of a listing.
import { ListThingGroupsCommand, type IoTClient, type ListThingGroupsCommandInput } from '@aws-sdk/client-iot';

/** The names ListThingGroups gives for `input`, following nextToken to the last page. */
export async function thingGroupNames(client: IoTClient, input: ListThingGroupsCommandInput = {}): Promise<string[]> {
  const names: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await client.send(new ListThingGroupsCommand({ ...input, nextToken }));
    names.push(...page.thingGroups!.map((g) => g.groupName!));
    nextToken = page.nextToken;
  } while (nextToken);
  return names;
}
