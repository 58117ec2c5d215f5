// An S3-compatible server for the tests: 127.0.0.1:<port>, objects under <directory>, one
// bucket (argv[4]); prints "ready" once it listens. Stopped by the tests with SIGTERM.
const S3rver = require('s3rver');

const [port, directory, bucket] = process.argv.slice(2);
new S3rver({
  port: Number(port),
  address: '127.0.0.1',
  silent: true,
  directory,
  configureBuckets: [{ name: bucket }],
})
  .run()
  .then(() => console.log('ready'));
