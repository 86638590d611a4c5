import { cliSuite } from './bw-cli.suite';
import { splitStack } from './split-stack';

cliSuite('identity and api as separate services behind a router (postgres)', splitStack());
