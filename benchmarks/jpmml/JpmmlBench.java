// JPMML-Evaluator side of the benchmark harness: loads a PMML document with the pmml-evaluator jars that the
// jpmml_evaluator PyPI package ships (org.jpmml:pmml-evaluator, as on Maven Central), warms the JVM up, then
// measures rows/s (one evaluate() per row, arguments prepared from a numeric matrix, as a user would) and
// single-record latency, and checks the results against the native predictions. Prints one JSON line.
//
// usage: java -cp <jars>:<here> JpmmlBench MODEL.pmml DATA.f64 COLUMNS(a,b,..) EXPECTED.f64 CLASSES(c1,c2,..|-)
//            WARMUP_S MIN_TIME_S REPEATS LATENCY_N CHECK_ROWS
import java.io.DataInputStream;
import java.io.File;
import java.io.FileInputStream;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.util.*;

import org.jpmml.evaluator.*;

public class JpmmlBench {
  static double[][] readMatrix(String path, long maxRows) throws IOException {
    try (FileChannel ch = FileChannel.open(Paths.get(path), StandardOpenOption.READ)) {
      ByteBuffer h = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
      ch.read(h, 0);
      h.flip();
      byte[] magic = new byte[8];
      h.get(magic);
      if (!new String(magic, "US-ASCII").equals("PMRTMAT1")) throw new IOException(path + ": not a PMRTMAT1 matrix");
      long rows = h.getLong(), cols = h.getLong();
      int n = (int) Math.min(rows, maxRows);
      ByteBuffer b = ByteBuffer.allocate((int) (n * cols * 8)).order(ByteOrder.LITTLE_ENDIAN);
      long pos = 24;
      while (b.hasRemaining()) {
        int r = ch.read(b, pos);
        if (r < 0) throw new IOException(path + " truncated");
        pos += r;
      }
      b.flip();
      double[][] m = new double[n][(int) cols];
      for (int i = 0; i < n; i++)
        for (int j = 0; j < cols; j++) m[i][j] = b.getDouble();
      return m;
    }
  }

  static List<InputField> inputs;
  static int[] colOf;
  static String[] classes;
  static Evaluator ev;
  static String target;

  static Map<String, FieldValue> args(double[] row) {
    Map<String, FieldValue> a = new LinkedHashMap<>();
    for (int i = 0; i < inputs.size(); i++) {
      InputField f = inputs.get(i);
      Object raw = null;
      if (colOf[i] >= 0 && !Double.isNaN(row[colOf[i]])) {
        double x = row[colOf[i]];
        switch (f.getDataType()) {
          case INTEGER: raw = (Object) Integer.valueOf((int) x); break;
          case FLOAT: raw = (Object) Float.valueOf((float) x); break;
          default: raw = (Object) Double.valueOf(x);
        }
      }
      a.put(f.getName(), f.prepare(raw));
    }
    return a;
  }

  static double[] outputs(Map<String, ?> res) {
    Object t = res.get(target);
    if (classes == null) {
      Object v = EvaluatorUtil.decode(t);
      return new double[] {v == null ? Double.NaN : ((Number) v).doubleValue()};
    }
    double[] p = new double[classes.length];
    Arrays.fill(p, Double.NaN);
    if (t instanceof HasProbability) {
      HasProbability hp = (HasProbability) t;
      Map<String, Double> byName = new HashMap<>();
      for (Object c : hp.getCategories()) byName.put(String.valueOf(c), hp.getProbability(c));
      for (int k = 0; k < classes.length; k++) {
        Double v = byName.get(classes[k]);
        if (v == null) {
          // integer labels may come back as "1.0" or "1"
          for (Map.Entry<String, Double> e : byName.entrySet())
            try {
              if (Double.parseDouble(e.getKey()) == Double.parseDouble(classes[k])) v = e.getValue();
            } catch (NumberFormatException ignored) {
            }
        }
        if (v != null) p[k] = v;
      }
    }
    return p;
  }

  static double sink = 0;
  static final com.sun.management.OperatingSystemMXBean OS =
      (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
  static double cpu() { return OS.getProcessCpuTime() / 1e9; }

  static void scoreRow(double[] row) {
    Map<String, ?> res = ev.evaluate(args(row));
    sink += res.size();
  }

  static String num(double x) {
    return Double.isFinite(x) ? String.format(Locale.ROOT, "%.6g", x) : "null";
  }

  public static void main(String[] argv) throws Exception {
    String modelPath = argv[0], dataPath = argv[1];
    String[] columns = argv[2].split(",");
    String expectedPath = argv[3];
    classes = argv[4].equals("-") ? null : argv[4].split(",");
    double warmup = Double.parseDouble(argv[5]), minTime = Double.parseDouble(argv[6]);
    int repeats = Integer.parseInt(argv[7]), latN = Integer.parseInt(argv[8]), checkRows = Integer.parseInt(argv[9]);

    List<Double> loads = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      long t0 = System.nanoTime();
      ev = new LoadingModelEvaluatorBuilder().load(new File(modelPath)).build();
      ev.verify();
      loads.add((System.nanoTime() - t0) / 1e9);
    }
    Collections.sort(loads);
    inputs = ev.getInputFields();
    target = ev.getTargetFields().get(0).getName();
    colOf = new int[inputs.size()];
    for (int i = 0; i < inputs.size(); i++) {
      colOf[i] = -1;
      for (int j = 0; j < columns.length; j++)
        if (columns[j].equals(inputs.get(i).getName())) colOf[i] = j;
    }
    int needRows = Math.max(Math.max(checkRows, latN), 1000);
    double[][] X = readMatrix(dataPath, needRows);
    double[][] E = readMatrix(expectedPath, checkRows);

    // Warm-up: evaluate rows until the JIT has settled (at least `warmup` seconds).
    long w0 = System.nanoTime();
    int wi = 0;
    for (;;) {
      double t = (System.nanoTime() - w0) / 1e9;
      if (t >= warmup && (wi >= 20000 || t >= 3 * warmup)) break;
      scoreRow(X[(wi++) % X.length]);
    }

    // Agreement with the native predictions.
    double maxAbs = 0;
    int nanMismatch = 0, compared = 0;
    int check = Math.min(checkRows, Math.min(E.length, X.length));
    for (int i = 0; i < check; i++) {
      double[] got = outputs(ev.evaluate(args(X[i])));
      for (int k = 0; k < got.length; k++) {
        compared++;
        if (Double.isNaN(got[k]) || Double.isNaN(E[i][k])) {
          if (Double.isNaN(got[k]) != Double.isNaN(E[i][k])) nanMismatch++;
          continue;
        }
        maxAbs = Math.max(maxAbs, Math.abs(got[k] - E[i][k]));
      }
    }

    // Throughput over 1,000-row batches (JPMML has no batch call: a loop of evaluate()).
    int batch = Math.min(1000, X.length);
    List<Double> rates = new ArrayList<>(), cpuRates = new ArrayList<>();
    int start = 0;
    for (int r = 0; r < repeats; r++) {
      long t0 = System.nanoTime();
      double c0 = cpu();
      long done = 0;
      double t;
      do {
        if (start + batch > X.length) start = 0;
        for (int i = start; i < start + batch; i++) scoreRow(X[i]);
        start += batch;
        done += batch;
        t = (System.nanoTime() - t0) / 1e9;
      } while (t < minTime);
      rates.add(done / t);
      cpuRates.add(done / Math.max(1e-9, cpu() - c0));
    }
    Collections.sort(rates);
    Collections.sort(cpuRates);

    // Single-record latency.
    int n = Math.min(latN, X.length);
    double[] lat = new double[n];
    for (int i = 0; i < n; i++) {
      long t0 = System.nanoTime();
      scoreRow(X[i]);
      lat[i] = (System.nanoTime() - t0) / 1e3;
    }
    double mean = 0;
    for (double x : lat) mean += x / n;
    Arrays.sort(lat);

    System.out.println("{\"engine\": \"jpmml\", \"load_s_median\": " + num(loads.get(1)) + ", \"warmup_evals\": " + wi
        + ", \"check\": {\"rows\": " + check + ", \"max_abs\": " + num(maxAbs) + ", \"values_compared\": " + compared
        + ", \"nan_mismatch\": " + nanMismatch + "}, \"throughput\": [{\"batch\": " + batch + ", \"rows_per_s\": "
        + num(rates.get(rates.size() / 2)) + ", \"rows_per_cpu_s\": " + num(cpuRates.get(cpuRates.size() / 2)) + "}], \"latency\": {\"record\": {\"p50_us\": " + num(lat[n / 2])
        + ", \"p99_us\": " + num(lat[Math.min(n - 1, (int) (n * 0.99))]) + ", \"mean_us\": " + num(mean) + ", \"n\": "
        + n + "}}, \"sink\": " + (sink > 0 ? 1 : 0) + "}");
  }
}
