export { createHostServer } from './host-server.js';
