import { parse, type Filter } from 'scim2-parse-filter';
import { scimBadRequest } from './scim-error';

/** How a filterable attribute maps onto SQL: the expression, its kind and whether case matters. */
export interface FilterAttribute {
  readonly sql: string;
  readonly kind: 'string' | 'boolean' | 'date';
  /** RFC 7643 `caseExact`: false compares both sides lower-cased. */
  readonly caseExact: boolean;
}

/** Attribute names (lower case, without schema URN) → column expressions. */
export type FilterAttributes = Readonly<Record<string, FilterAttribute>>;

const MAX_FILTER_LENGTH = 2000;
const MAX_FILTER_NODES = 50;

const invalid = (detail: string): Error => scimBadRequest(detail, 'invalidFilter');

/** `urn:…:User:userName` → `username`: attribute names are case-insensitive (RFC 7643 §2.1). */
function attributeKey(path: string, schemas: readonly string[]): string {
  let name = path;
  for (const urn of schemas) {
    if (name.toLowerCase().startsWith(`${urn.toLowerCase()}:`)) name = name.slice(urn.length + 1);
  }
  return name.toLowerCase();
}

const escapeLike = (value: string): string => value.replace(/[\\%_]/g, (c) => `\\${c}`);

/**
 * Translates a SCIM filter (RFC 7644 §3.4.2.2) into a parameterised SQL condition, through a real
 * parser: `and`, `or`, `not`, `eq`, `ne`, `co`, `sw`, `ew`, `pr`, and `gt`/`ge`/`lt`/`le` on strings and
 * dates, over the attributes given. An unknown attribute, an operator the attribute's type has no
 * meaning for, a complex value path or a malformed expression is a 400 `invalidFilter`. Values travel
 * as parameters (appended to `params`), never in the SQL text.
 */
export function filterToSql(
  filter: string | undefined,
  attributes: FilterAttributes,
  schemas: readonly string[],
  params: unknown[],
): string {
  if (filter === undefined || filter.trim() === '') return 'TRUE';
  if (filter.length > MAX_FILTER_LENGTH) throw invalid('The filter is too long.');
  let ast: Filter;
  try {
    ast = parse(filter);
  } catch {
    throw invalid('The filter is not a valid SCIM filter expression.');
  }
  let nodes = 0;
  const param = (value: unknown): string => {
    params.push(value);
    return `$${params.length}`;
  };
  const visit = (node: Filter): string => {
    nodes += 1;
    if (nodes > MAX_FILTER_NODES) throw invalid('The filter has too many terms.');
    switch (node.op) {
      case 'and':
      case 'or':
        return `(${node.filters.map(visit).join(` ${node.op.toUpperCase()} `)})`;
      case 'not':
        return `(NOT COALESCE(${visit(node.filter)}, FALSE))`;
      case '[]':
        throw invalid(`Filtering on sub-attributes of ${node.attrPath} is not supported.`);
      case 'pr': {
        const attribute = lookup(node.attrPath);
        return attribute.kind === 'string'
          ? `(${attribute.sql} IS NOT NULL AND ${attribute.sql} <> '')`
          : `(${attribute.sql} IS NOT NULL)`;
      }
      case 'eq':
      case 'ne':
      case 'co':
      case 'sw':
      case 'ew':
      case 'gt':
      case 'ge':
      case 'lt':
      case 'le':
        return compare(node.op, lookup(node.attrPath), node.compValue, node.attrPath);
    }
  };
  const lookup = (path: string): FilterAttribute => {
    const attribute = attributes[attributeKey(path, schemas)];
    if (!attribute) throw invalid(`The attribute ${path} cannot be filtered on.`);
    return attribute;
  };
  const compare = (op: string, attribute: FilterAttribute, value: unknown, path: string): string => {
    if (value === null) {
      if (op === 'eq') return `(${attribute.sql} IS NULL)`;
      if (op === 'ne') return `(${attribute.sql} IS NOT NULL)`;
      throw invalid(`${op} null is not a valid comparison.`);
    }
    if (attribute.kind === 'boolean') {
      if (typeof value !== 'boolean' || (op !== 'eq' && op !== 'ne'))
        throw invalid(`${path} is a boolean: only eq and ne with true or false apply.`);
      return `(${attribute.sql} ${op === 'eq' ? '=' : '<>'} ${param(value)})`;
    }
    if (typeof value !== 'string') throw invalid(`${path} compares with a string.`);
    if (attribute.kind === 'date') {
      const date = new Date(value);
      if (Number.isNaN(date.getTime())) throw invalid(`${path} compares with a date-time.`);
      const sqlOp = { eq: '=', ne: '<>', gt: '>', ge: '>=', lt: '<', le: '<=' }[op];
      if (!sqlOp) throw invalid(`${op} does not apply to the date-time ${path}.`);
      return `(${attribute.sql} ${sqlOp} ${param(date)})`;
    }
    const column = attribute.caseExact ? attribute.sql : `lower(${attribute.sql})`;
    const text = attribute.caseExact ? value : value.toLowerCase();
    switch (op) {
      case 'eq':
        return `(${column} = ${param(text)})`;
      case 'ne':
        return `(${column} IS DISTINCT FROM ${param(text)})`;
      case 'co':
        return `(${column} LIKE ${param(`%${escapeLike(text)}%`)})`;
      case 'sw':
        return `(${column} LIKE ${param(`${escapeLike(text)}%`)})`;
      case 'ew':
        return `(${column} LIKE ${param(`%${escapeLike(text)}`)})`;
      case 'gt':
        return `(${column} > ${param(text)})`;
      case 'ge':
        return `(${column} >= ${param(text)})`;
      case 'lt':
        return `(${column} < ${param(text)})`;
      case 'le':
        return `(${column} <= ${param(text)})`;
      default:
        throw invalid(`The operator ${op} is not supported.`);
    }
  };
  return visit(ast);
}
