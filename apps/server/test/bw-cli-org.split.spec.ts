import { orgCliSuite } from './bw-cli-org.suite';
import { splitStack } from './split-stack';

orgCliSuite('identity and api as separate services behind a router (postgres)', splitStack(), {
  clientEvents: false,
});
