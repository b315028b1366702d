import type { TableClient, TableEntity } from "@azure/data-tables";
import { statusCodeOf } from "../ports/failures";

/**
 * The optimistic write the table adapters share: create the row when none was read, else replace
 * it over the version read (its ETag). False when another writer got there first (409 on create,
 * 412 on replace); any other failure is thrown.
 */
export async function createOrReplaceOver(table: TableClient, entity: TableEntity, etag: string | undefined): Promise<boolean> {
  try {
    if (etag) await table.updateEntity(entity, "Replace", { etag });
    else await table.createEntity(entity);
    return true;
  } catch (error) {
    const status = statusCodeOf(error);
    if (status === 409 || status === 412) return false;
    throw error;
  }
}
