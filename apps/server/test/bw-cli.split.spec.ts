import { cliSuite } from './bw-cli.suite';
import { splitStack } from './split-stack';

const stack = splitStack();
cliSuite('identity and api as separate services behind a router (postgres)', stack);
