import { sendsCliSuite } from './bw-cli-sends.suite';
import { splitStack } from './split-stack';

// Its own file (not inside bw-cli.split) so the test runner can run it beside the long CLI suites.
sendsCliSuite('identity and api as separate services behind a router (postgres)', splitStack());
