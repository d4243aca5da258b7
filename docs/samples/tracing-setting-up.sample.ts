import { createTracer, tracingMiddleware } from '@clone/telemetry';

const tracer = createTracer({
  serviceName: 'auth-service',
  logger,
});

// Apply middleware
app.use(tracingMiddleware(tracer));

// Create child spans
app.post('/api/users', async (req, res) => {
  const span = req.span;
  
  // Create child span for database operation
  const dbSpan = tracer.startChildSpan('db.insert', span);
  dbSpan.setAttribute('db.table', 'users');
  
  try {
    const user = await db.users.insert(req.body);
    dbSpan.setStatus('ok');
    res.json(user);
  } catch (error) {
    dbSpan.setStatus('error', error.message);
    throw error;
  } finally {
    dbSpan.end();
  }
});
