/** Every TypeORM entity, registered on the data source. */
export const entities: (new () => object)[] = [];
