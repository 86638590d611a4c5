export * from './operator-directory';
export * from './operator-events';
export * from './operator-actions.service';
export * from './offboarding.service';
